//go:build !linux

package can

import (
	"context"
	"fmt"
)

// A Conn is a live SocketCAN interface. SocketCAN exists only on Linux;
// elsewhere Dial fails with ErrUnsupportedPlatform.
type Conn struct{}

var (
	_ Source = (*Conn)(nil)
	_ Sender = (*Conn)(nil)
)

// Dial returns an error wrapping ErrUnsupportedPlatform: SocketCAN exists
// only on Linux.
func Dial(ifname string) (*Conn, error) {
	return nil, fmt.Errorf("can: dial %s: %w", ifname, ErrUnsupportedPlatform)
}

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Stats returns zero counts.
func (c *Conn) Stats() Stats { return Stats{} }

// Run returns ErrUnsupportedPlatform.
func (c *Conn) Run(context.Context, func(Frame) error) error { return ErrUnsupportedPlatform }

// Send returns ErrUnsupportedPlatform.
func (c *Conn) Send(context.Context, Frame) error { return ErrUnsupportedPlatform }
