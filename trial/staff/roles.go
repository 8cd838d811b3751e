// Package staff is the trial's staff accounts: who may do what (roles), how
// they log in (argon2id passwords, slowed down after failures), and the data
// key that unseals personal fields (package trial/pii), wrapped for each
// account that may see them.
package staff

import (
	"fmt"
	"sort"
)

// Role is what an account may do.
type Role string

const (
	// Coordinator may do everything, including accounts, the CA, identified
	// exports and the audit trail.
	Coordinator Role = "coordinator"
	// VenueStaff runs demo stations, kiosks, lending and paper transcription;
	// sees no personal data beyond the monitor in front of them; no exports.
	VenueStaff Role = "staff"
	// Analyst sees results and makes pseudonymised exports only. An analyst
	// account holds no data key: personal fields stay sealed for it.
	Analyst Role = "analyst"
)

// Roles in the order the GUI lists them.
var Roles = []Role{Coordinator, VenueStaff, Analyst}

// ParseRole accepts a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (coordinator, staff or analyst)", s)
}

// HoldsDataKey reports whether accounts of this role get the data key.
func (r Role) HoldsDataKey() bool { return r == Coordinator || r == VenueStaff }

// Action is one thing the GUI or the command line lets someone do. Every
// screen action and command maps to one (see app/cli's and app's tables).
type Action string

const (
	ManageTrials     Action = "trials.manage"     // create/edit trials and sessions
	ViewTrials       Action = "trials.view"       // trial and session list, dashboard counts
	ListMonitors     Action = "monitors.list"     // the monitor list with names and contacts
	EditMonitors     Action = "monitors.edit"     // enrol, edit, consent, withdraw, import
	LookupMonitor    Action = "monitors.lookup"   // one monitor's id and name, at a station
	RetentionPurge   Action = "monitors.purge"    // erase personal fields after the retention date
	RunStations      Action = "stations.run"      // ticket, gate, bank stations, card checks, readers
	RunKiosk         Action = "kiosk.run"         // start a kiosk (leaving needs a staff PIN)
	Lend             Action = "loans.lend"        // check phones and SIMs out and in
	ManageDevices    Action = "devices.manage"    // import the phone/SIM inventory
	Provision        Action = "provision.run"     // provision a lent phone
	Transcribe       Action = "survey.transcribe" // paper questionnaires
	ManageForms      Action = "survey.forms"      // add questionnaire versions
	ViewResults      Action = "survey.results"    // results page, charts
	ExportPseudonym  Action = "export.pseudonymised"
	ExportIdentified Action = "export.identified"
	ExportMonitors   Action = "export.monitors" // monitor list as CSV (personal data)
	ManageCA         Action = "ca.manage"       // CA init, issue, revoke, CRL, anchors
	ManageStaff      Action = "staff.manage"    // accounts, PINs, data key rotation
	ViewAudit        Action = "audit.view"      // read, verify and export the audit trail
	ManageSettings   Action = "settings.manage" // store location, station defaults
	SeedDemo         Action = "demo.seed"
)

// policy is the whole rule set: role → actions. Anything not listed is denied.
var policy = map[Role]map[Action]bool{
	Coordinator: set(ManageTrials, ViewTrials, ListMonitors, EditMonitors, LookupMonitor, RetentionPurge,
		RunStations, RunKiosk, Lend, ManageDevices, Provision, Transcribe, ManageForms, ViewResults,
		ExportPseudonym, ExportIdentified, ExportMonitors, ManageCA, ManageStaff, ViewAudit, ManageSettings, SeedDemo),
	VenueStaff: set(ViewTrials, LookupMonitor, RunStations, RunKiosk, Lend, Provision, Transcribe),
	Analyst:    set(ViewTrials, ViewResults, ExportPseudonym),
}

func set(as ...Action) map[Action]bool {
	m := make(map[Action]bool, len(as))
	for _, a := range as {
		m[a] = true
	}
	return m
}

// May reports whether role r may do a.
func (r Role) May(a Action) bool { return policy[r][a] }

// Actions lists every action role r may do, sorted (for help and tests).
func (r Role) Actions() []Action {
	var as []Action
	for a := range policy[r] {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i] < as[j] })
	return as
}

// DeniedError is returned when an account's role does not allow an action.
type DeniedError struct {
	Login  string
	Role   Role
	Action Action
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s (%s) may not do %s", e.Login, e.Role, e.Action)
}
