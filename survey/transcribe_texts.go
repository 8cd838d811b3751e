package survey

import "context"

// FreeText is one free-text answer, for the results screen's list.
//
// (It sits beside the transcription code only because this file's author
// owned no other file of the package; it reads like tally.go and may move
// there.)
type FreeText struct {
	ResponseID int64
	MonitorID  string // pseudonymous id
	Stage      string // the response's step, or its form id
	Variable   string
	Question   *Question
	Text       string
}

// FreeTexts lists the text answers of the filtered responses in response
// order (the same responses Tally counts).
func (s *Service) FreeTexts(ctx context.Context, f Filter) ([]FreeText, error) {
	var out []FreeText
	err := s.snapshot(ctx, func(rd reader) error {
		l, _, err := s.prepare(ctx, rd, f)
		if err != nil {
			return err
		}
		return s.scan(ctx, rd, f, l, false, nil, nil, func(r *scanRow) error {
			for _, v := range r.Ref.vars {
				q := v.byRef[r.Ref.info.Ref]
				if q.Type != TypeText {
					continue
				}
				if text := r.Answers[q.Name]; text != "" {
					out = append(out, FreeText{ResponseID: r.ID, MonitorID: r.MonitorID, Stage: r.stage(),
						Variable: v.Name, Question: q, Text: text})
				}
			}
			return nil
		})
	})
	return out, err
}
