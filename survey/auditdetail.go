package survey

import "fmt"

// AuditDetail is the audit-trail detail of an export made with o: the
// format ("xlsx", "csv utf-8"), identified or not, the filters and the
// number of responses. It names no person and no answer.
func (o ExportOptions) AuditDetail(format string, responses int) string {
	yes := map[bool]string{true: "yes", false: "no"}
	d := fmt.Sprintf("format %s; identified %s; %d responses", format, yes[o.Identified], responses)
	if o.TrialID != nil {
		d += fmt.Sprintf("; trial %d", *o.TrialID)
	}
	if o.Step != "" {
		d += "; step " + o.Step
	}
	if o.FormID != "" {
		d += "; form " + o.FormID
	}
	if o.CompleteOnly {
		d += "; complete only"
	}
	return d
}
