package j1939

// Parameter groups this package knows by name. Numbers and acronyms are
// from SAE J1939-71 (application layer), J1939-73 (diagnostics) and
// J1939-21 (transport protocol).
const (
	PGNRequest        PGN = 59904 // RQST, 0xEA00
	PGNTPDT           PGN = 60160 // TP.DT transport data, 0xEB00
	PGNTPCM           PGN = 60416 // TP.CM transport connection management, 0xEC00
	PGNAddressClaimed PGN = 60928 // ACL, 0xEE00
	PGNEEC2           PGN = 61443 // electronic engine controller 2, 0xF003
	PGNEEC1           PGN = 61444 // electronic engine controller 1, 0xF004
	PGNEGF1           PGN = 61450 // engine gas flow rate, 0xF00A
	PGNAT1IG1         PGN = 61454 // aftertreatment 1 intake gas 1, 0xF00E
	PGNAT1OG1         PGN = 61455 // aftertreatment 1 outlet gas 1, 0xF00F
	PGNEEC7           PGN = 64916 // electronic engine controller 7, 0xFD94
	PGNEEC6           PGN = 64931 // electronic engine controller 6, 0xFDA3
	PGNIC2            PGN = 64976 // intake/exhaust conditions 2, 0xFDD0
	PGNAT1T1I         PGN = 65110 // aftertreatment 1 DEF tank 1 information, 0xFE56
	PGNET2            PGN = 65188 // engine temperature 2, 0xFEA4
	PGNVDHR           PGN = 65217 // high resolution vehicle distance, 0xFEC1
	PGNDM1            PGN = 65226 // active diagnostic trouble codes, 0xFECA
	PGNEFLP2          PGN = 65243 // engine fluid level/pressure 2, 0xFEDB
	PGNTC             PGN = 65245 // turbocharger, 0xFEDD
	PGNEEC3           PGN = 65247 // electronic engine controller 3, 0xFEDF
	PGNVD             PGN = 65248 // vehicle distance, 0xFEE0
	PGNEC1            PGN = 65251 // engine configuration 1, 0xFEE3
	PGNShutdown       PGN = 65252 // shutdown, 0xFEE4
	PGNHours          PGN = 65253 // engine hours, revolutions, 0xFEE5
	PGNCI             PGN = 65259 // component identification, 0xFEEB
	PGNVI             PGN = 65260 // vehicle identification, 0xFEEC
	PGNET1            PGN = 65262 // engine temperature 1, 0xFEEE
	PGNEFLP1          PGN = 65263 // engine fluid level/pressure 1, 0xFEEF
	PGNCCVS1          PGN = 65265 // cruise control/vehicle speed 1, 0xFEF1
	PGNLFE1           PGN = 65266 // fuel economy (liquid) 1, 0xFEF2
	PGNAMB            PGN = 65269 // ambient conditions, 0xFEF5
	PGNIC1            PGN = 65270 // intake/exhaust conditions 1, 0xFEF6
	PGNVEP1           PGN = 65271 // vehicle electrical power 1, 0xFEF7
	PGNDD             PGN = 65276 // dash display, 0xFEFC
)

// pgnAcronyms names the groups above for PGN.String.
var pgnAcronyms = map[PGN]string{
	PGNRequest:        "RQST",
	PGNTPDT:           "TP.DT",
	PGNTPCM:           "TP.CM",
	PGNAddressClaimed: "ACL",
	PGNEEC2:           "EEC2",
	PGNEEC1:           "EEC1",
	PGNEGF1:           "EGF1",
	PGNAT1IG1:         "AT1IG1",
	PGNAT1OG1:         "AT1OG1",
	PGNEEC7:           "EEC7",
	PGNEEC6:           "EEC6",
	PGNIC2:            "IC2",
	PGNAT1T1I:         "AT1T1I",
	PGNET2:            "ET2",
	PGNVDHR:           "VDHR",
	PGNDM1:            "DM1",
	PGNEFLP2:          "EFL/P2",
	PGNTC:             "TC",
	PGNEEC3:           "EEC3",
	PGNVD:             "VD",
	PGNEC1:            "EC1",
	PGNShutdown:       "SHUTDN",
	PGNHours:          "HOURS",
	PGNCI:             "CI",
	PGNVI:             "VI",
	PGNET1:            "ET1",
	PGNEFLP1:          "EFL/P1",
	PGNCCVS1:          "CCVS1",
	PGNLFE1:           "LFE1",
	PGNAMB:            "AMB",
	PGNIC1:            "IC1",
	PGNVEP1:           "VEP1",
	PGNDD:             "DD",
}
