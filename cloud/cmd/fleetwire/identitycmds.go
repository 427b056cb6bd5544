package main

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/identities"
)

// accountQuery is "?account=A" for operator tokens, "" otherwise.
func accountQuery(account string) string {
	if account == "" {
		return ""
	}
	return "?" + url.Values{"account": {account}}.Encode()
}

// vehicleKeyCmd: fleetwire vehicles register|key|revoke ID.
func vehicleKeyCmd(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	c := newAPICmd("vehicles "+action, stdout, stderr)
	account := c.fs.String("account", "", "account (operator tokens)")
	var key, label *string
	if action == "register" {
		key = c.fs.String("key", "", "the vehicle's public key (U…), printed by fleetwire-edge keygen")
		label = c.fs.String("label", "", "what the key is, e.g. the gateway's serial number")
	}
	pos, cl, err := c.parse(args, "ID")
	if err != nil {
		return err
	}
	path := "/v1/vehicles/" + url.PathEscape(pos[0]) + "/key" + accountQuery(*account)
	var id identities.Identity
	switch action {
	case "register":
		err = cl.Do(ctx, "PUT", path, map[string]string{"key": *key, "label": *label}, &id)
	case "key":
		err = cl.Do(ctx, "GET", path, nil, &id)
	case "revoke":
		if err := cl.Do(ctx, "DELETE", path, nil, nil); err != nil {
			return classify(err)
		}
		fmt.Fprintf(stdout, "revoked the key of vehicle %s: its link is cut, its events wait on it\n", pos[0])
		return nil
	}
	if err != nil {
		return classify(err)
	}
	return c.print(id, "VEHICLE\tACCOUNT\tKEY\tLABEL\tREGISTERED", func(w io.Writer) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id.Vehicle, id.Account, id.Key, dash(id.Label), ts(id.CreatedAt))
	})
}

// natsCredentialCmd: fleetwire nats-credential create|list|revoke.
func natsCredentialCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rows := func(items ...api.NATSCredential) func(io.Writer) {
		return func(w io.Writer) {
			for _, c := range items {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Key, c.Account, c.Consumer, dash(c.Label), ts(c.CreatedAt))
			}
		}
	}
	const header = "KEY\tACCOUNT\tCONSUMER\tLABEL\tCREATED"
	return subcommand("nats-credential", args, map[string]func([]string) error{
		"create": func(args []string) error {
			c := newAPICmd("nats-credential create", stdout, stderr)
			account := c.fs.String("account", "", "account (operator tokens)")
			key := c.fs.String("key", "", "the customer's own public key (U…); empty: the server makes one and prints its seed once")
			label := c.fs.String("label", "", "who the credential is for")
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			var cred api.NATSCredential
			if err := cl.Do(ctx, "POST", "/v1/nats-credentials"+accountQuery(*account), map[string]string{"key": *key, "label": *label}, &cred); err != nil {
				return classify(err)
			}
			if c.json {
				return c.print(cred, "", nil)
			}
			fmt.Fprintf(stdout, "key:            %s\n", cred.Key)
			if cred.Seed != "" {
				fmt.Fprintf(stdout, "seed:           %s   (shown once; give it to the customer, it is not stored)\n", cred.Seed)
			}
			fmt.Fprintf(stdout, "stream:         %s\nconsumer:       %s\nfilter subject: %s (or narrower)\ninbox prefix:   %s\n",
				cred.Stream, cred.Consumer, cred.FilterSubject, cred.InboxPrefix)
			return nil
		},
		"list": func(args []string) error {
			c := newAPICmd("nats-credential list", stdout, stderr)
			account := c.fs.String("account", "", "account (operator tokens)")
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			var out struct {
				Items []api.NATSCredential `json:"items"`
			}
			if err := cl.Do(ctx, "GET", "/v1/nats-credentials"+accountQuery(*account), nil, &out); err != nil {
				return classify(err)
			}
			return c.print(out, header, rows(out.Items...))
		},
		"revoke": func(args []string) error {
			c := newAPICmd("nats-credential revoke", stdout, stderr)
			account := c.fs.String("account", "", "account (operator tokens)")
			pos, cl, err := c.parse(args, "KEY")
			if err != nil {
				return err
			}
			if err := cl.Do(ctx, "DELETE", "/v1/nats-credentials/"+url.PathEscape(pos[0])+accountQuery(*account), nil, nil); err != nil {
				return classify(err)
			}
			fmt.Fprintf(stdout, "revoked %s\n", pos[0])
			return nil
		},
	})
}
