package screens

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// KioskTrials is what the kiosk needs from the trial service: who answers,
// in which trial, session and step.
type KioskTrials interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	AllSessions(ctx context.Context) ([]trial.Session, error)
	ListMonitors(ctx context.Context, f trial.Filter) ([]trial.Monitor, error)
}

// KioskStaff checks and sets the staff PINs that leave a kiosk
// (staff.Service): any enabled coordinator's or venue staff account's PIN,
// throttled and audited by the service.
type KioskStaff interface {
	CheckPIN(ctx context.Context, pin string) (staff.Account, error)
	SetOwnPIN(ctx context.Context, sess *staff.Session, password, pin string) error
}

// KioskSurvey is what the kiosk needs from the survey service.
type KioskSurvey interface {
	Forms(ctx context.Context) ([]survey.FormInfo, error)
	Form(ctx context.Context, ref int64) (*survey.Form, error)
	Start(ctx context.Context, ref int64, subj survey.Subject) (*survey.Response, error)
	Resume(ctx context.Context, monitorID, formID string) (*survey.Response, error)
	Unfinished(ctx context.Context) ([]survey.Response, error)
	SaveAnswer(ctx context.Context, responseID int64, question, value string) error
	Complete(ctx context.Context, responseID int64) error
}

// KioskDeps is what the kiosk needs besides the window.
type KioskDeps struct {
	Trials KioskTrials
	Survey KioskSurvey
	// Lang picks the form's label column: "ja" (default) or "en".
	Lang string
	// Staff checks the staff PIN that leaves or resets the kiosk.
	Staff KioskStaff
	// Session is the account that started the kiosk (its PIN status).
	Session *staff.Session
	// OnExit is called once staff have entered a staff PIN to leave.
	OnExit func()
}

// Kiosk is the questionnaire kiosk: staff choose the monitor, trial,
// session, step and form, then hand the laptop over; the monitor answers
// alone, one question (or group) per page, each answer saved the moment it
// is given. Leaving and resetting need a staff PIN.
type Kiosk struct {
	w    fyne.Window
	deps KioskDeps
	root *fyne.Container

	setup *kioskSetup

	// The questionnaire being answered.
	info    survey.FormInfo
	form    *survey.Form
	resp    *survey.Response
	answers map[string]string // as saved (or being saved)
	drafts  map[string]string // typed values not yet valid or not yet saved
	pages   []kioskPage
	cur     int // index into pages
	msgs    map[string]string
	done    bool

	saver  kioskSaver
	status *widget.Label // "saved" / "saving" / save error
}

// kioskPage is one page: a top-level question or note, or a whole group.
type kioskPage struct {
	group *survey.Question // nil for a single item
	items []*survey.Question
}

// NewKiosk builds the kiosk, starting on the staff setup page.
func NewKiosk(w fyne.Window, deps KioskDeps) *Kiosk {
	if deps.Lang != "en" {
		deps.Lang = "ja"
	}
	k := &Kiosk{w: w, deps: deps, root: container.NewStack()}
	k.saver.k = k
	k.showSetup()
	return k
}

// Object is the kiosk's canvas object.
func (k *Kiosk) Object() fyne.CanvasObject { return k.root }

func (k *Kiosk) setContent(o fyne.CanvasObject) {
	k.root.Objects = []fyne.CanvasObject{o}
	k.root.Refresh()
}

func (k *Kiosk) showSetup() {
	k.form, k.resp, k.done = nil, nil, false
	k.setup = newKioskSetup(k)
	k.setContent(k.setup.content)
	k.setup.load()
}

// begin opens (or resumes) the monitor's response and shows the page to
// answer next. Called from the setup page with the staff's choices.
func (k *Kiosk) begin(info survey.FormInfo, subj survey.Subject) {
	type opened struct {
		form    *survey.Form
		resp    *survey.Response
		resumed bool
	}
	Run(context.Background(), func(ctx context.Context) (opened, error) {
		var o opened
		r, err := k.deps.Survey.Resume(ctx, subj.MonitorID, info.ID)
		switch {
		case err == nil:
			o.resp, o.resumed = r, true
		case errors.Is(err, store.ErrNotFound):
			if o.resp, err = k.deps.Survey.Start(ctx, info.Ref, subj); err != nil {
				return o, err
			}
		default:
			return o, err
		}
		// A resumed response keeps the version it was started under.
		o.form, err = k.deps.Survey.Form(ctx, o.resp.FormRef)
		return o, err
	}, func(o opened, err error) {
		if err != nil {
			k.setup.fail(err)
			return
		}
		k.open(info, o.form, o.resp)
	})
}

// open shows resp's first unanswered page.
func (k *Kiosk) open(info survey.FormInfo, f *survey.Form, r *survey.Response) {
	k.info, k.form, k.resp = info, f, r
	k.answers = map[string]string{}
	for q, v := range r.Answers {
		k.answers[q] = v
	}
	k.drafts, k.msgs = map[string]string{}, map[string]string{}
	k.pages = kioskPages(f)
	k.done = false
	k.cur = k.resumePage()
	k.showPage()
}

// kioskPages splits a form into pages: each top-level question or note is a
// page, and each top-level group is one page with everything inside it.
func kioskPages(f *survey.Form) []kioskPage {
	var pages []kioskPage
	byGroup := map[*survey.Question]int{}
	for _, q := range f.Items {
		top := q
		for top.Group != nil {
			top = top.Group
		}
		if top.Type == survey.TypeGroup {
			i, ok := byGroup[top]
			if !ok {
				i = len(pages)
				byGroup[top] = i
				pages = append(pages, kioskPage{group: top})
			}
			if q.Type != survey.TypeGroup {
				pages[i].items = append(pages[i].items, q)
			}
			continue
		}
		pages = append(pages, kioskPage{items: []*survey.Question{q}})
	}
	return pages
}

// shown lists the page's items asked given the answers so far.
func (k *Kiosk) shown(p kioskPage) []*survey.Question {
	var out []*survey.Question
	for _, q := range p.items {
		if k.form.Relevant(q, k.answers) {
			out = append(out, q)
		}
	}
	return out
}

func (k *Kiosk) visible(i int) bool { return len(k.shown(k.pages[i])) > 0 }

// resumePage is the first page with a question asked but not answered; a
// response with no answers starts at the beginning, and one with every
// question answered at its last page (to finish it).
func (k *Kiosk) resumePage() int {
	if len(k.answers) == 0 {
		return k.step(-1, +1)
	}
	last := 0
	for i, p := range k.pages {
		if !k.visible(i) {
			continue
		}
		last = i
		for _, q := range k.shown(p) {
			if q.Answerable() && k.answers[q.Name] == "" {
				return i
			}
		}
	}
	return last
}

// step returns the next visible page from i in direction dir, or -1.
func (k *Kiosk) step(i, dir int) int {
	for j := i + dir; j >= 0 && j < len(k.pages); j += dir {
		if k.visible(j) {
			return j
		}
	}
	return -1
}

// progress is the position of the current page among the visible pages.
func (k *Kiosk) progress() (n, total int) {
	for i := range k.pages {
		if k.visible(i) {
			total++
			if i <= k.cur {
				n++
			}
		}
	}
	return n, total
}

// showPage builds the current page. It is rebuilt after each choice, so
// skip logic shows and hides questions on the same page at once.
func (k *Kiosk) showPage() {
	if k.cur < 0 || k.cur >= len(k.pages) {
		k.cur = max(k.step(-1, +1), 0)
	}
	p := k.pages[k.cur]
	body := container.NewVBox()
	if p.group != nil {
		title := widget.NewLabelWithStyle(p.group.Label.In(k.deps.Lang), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Wrapping = fyne.TextWrapWord
		title.SizeName = theme.SizeNameHeadingText
		body.Add(title)
	}
	for _, q := range k.shown(p) {
		body.Add(k.questionView(q))
	}
	n, total := k.progress()
	bar := widget.NewProgressBar()
	bar.Max = float64(total)
	bar.SetValue(float64(n))
	bar.TextFormatter = func() string { return lang.L("kiosk.progress", map[string]any{"N": n, "Total": total}) }

	back := widget.NewButtonWithIcon(lang.L("kiosk.back"), theme.NavigateBackIcon(), k.back)
	if k.step(k.cur, -1) < 0 {
		back.Disable()
	}
	nextText := lang.L("kiosk.next")
	if k.step(k.cur, +1) < 0 {
		nextText = lang.L("kiosk.finish")
	}
	next := widget.NewButtonWithIcon(nextText, theme.NavigateNextIcon(), k.next)
	next.IconPlacement = widget.ButtonIconTrailingText
	next.Importance = widget.HighImportance
	if k.status == nil {
		k.status = widget.NewLabel("")
	}
	nav := container.NewBorder(nil, nil, back, next, container.NewCenter(k.status))
	top := container.NewBorder(nil, nil, nil, k.exitButton(), bar)
	page := container.NewBorder(top, nav, nil, nil, container.NewVScroll(container.NewPadded(body)))
	k.setContent(container.NewThemeOverride(container.NewPadded(page), newKioskTheme()))
}

// exitButton is the staff's way out (behind the PIN), kept small and plain.
func (k *Kiosk) exitButton() *widget.Button {
	b := widget.NewButtonWithIcon("", theme.LogoutIcon(), func() {
		k.askPIN(lang.L("kiosk.exit_title"), k.exit)
	})
	b.Importance = widget.LowImportance
	return b
}

// RequestExit asks for a staff PIN and leaves the kiosk when it is one
// (the window's close button calls it).
func (k *Kiosk) RequestExit() { k.askPIN(lang.L("kiosk.exit_title"), k.exit) }

func (k *Kiosk) exit() {
	if k.deps.OnExit != nil {
		k.deps.OnExit()
	}
}

// questionView is one question: label, hint, the answer widget and the
// line for its message (constraint, type or required).
func (k *Kiosk) questionView(q *survey.Question) fyne.CanvasObject {
	label := widget.NewLabelWithStyle(q.Label.In(k.deps.Lang), fyne.TextAlignLeading, fyne.TextStyle{Bold: q.Answerable()})
	label.Wrapping = fyne.TextWrapWord
	if q.Required {
		label.SetText(label.Text + " " + lang.L("kiosk.required_mark"))
	}
	box := container.NewVBox(label)
	if h := q.Hint.In(k.deps.Lang); h != "" {
		hint := widget.NewLabel(h)
		hint.Wrapping = fyne.TextWrapWord
		hint.TextStyle = fyne.TextStyle{Italic: true}
		box.Add(hint)
	}
	if !q.Answerable() {
		return box
	}
	msg := widget.NewLabel(k.msgs[q.Name])
	msg.Wrapping = fyne.TextWrapWord
	msg.Importance = widget.DangerImportance
	if msg.Text == "" {
		msg.Hide()
	}
	setMsg := func(s string) {
		if s == "" {
			delete(k.msgs, q.Name)
			msg.Hide()
			return
		}
		k.msgs[q.Name] = s
		msg.SetText(s)
		msg.Show()
	}
	box.Add(k.answerWidget(q, setMsg))
	box.Add(msg)
	box.Add(widget.NewSeparator())
	return box
}

func (k *Kiosk) answerWidget(q *survey.Question, setMsg func(string)) fyne.CanvasObject {
	cur := k.answers[q.Name]
	switch {
	case q.IsScale5():
		grid := container.NewGridWithColumns(len(q.List.Choices))
		for _, c := range q.List.Choices {
			b := widget.NewButton(c.Name, func() { k.choose(q, c.Name) })
			if c.Name == cur {
				b.Importance = widget.HighImportance
				b.Icon = theme.ConfirmIcon()
			}
			l := widget.NewLabelWithStyle(c.Label.In(k.deps.Lang), fyne.TextAlignCenter, fyne.TextStyle{})
			l.Wrapping = fyne.TextWrapWord
			// Little padding: a fifth of a 1280-wide screen holds
			// どちらともいえない on one line instead of leaving い alone.
			grid.Add(container.NewVBox(b, container.NewThemeOverride(l, tightLabelTheme{newKioskTheme()})))
		}
		return grid
	case q.Type == survey.TypeSelectOne:
		labels, codes := choiceLabels(q, k.deps.Lang)
		r := widget.NewRadioGroup(labels, nil)
		for i, c := range codes {
			if c == cur {
				r.Selected = labels[i]
			}
		}
		r.OnChanged = func(s string) { k.choose(q, codeOf(labels, codes, s)) }
		return r
	case q.Type == survey.TypeSelectMultiple:
		labels, codes := choiceLabels(q, k.deps.Lang)
		c := widget.NewCheckGroup(labels, nil)
		picked := map[string]bool{}
		for _, code := range strings.Fields(cur) {
			picked[code] = true
		}
		for i, code := range codes {
			if picked[code] {
				c.Selected = append(c.Selected, labels[i])
			}
		}
		c.OnChanged = func(sel []string) {
			var out []string
			for _, s := range sel {
				out = append(out, codeOf(labels, codes, s))
			}
			k.choose(q, strings.Join(out, " "))
		}
		return c
	default:
		e := widget.NewEntry()
		if q.Type == survey.TypeText {
			e = widget.NewMultiLineEntry()
			e.Wrapping = fyne.TextWrapWord
			e.SetMinRowsVisible(3)
		}
		switch q.Type {
		case survey.TypeDate:
			e.SetPlaceHolder(lang.L("kiosk.date_placeholder"))
		case survey.TypeInteger, survey.TypeDecimal:
			e.SetPlaceHolder(lang.L("kiosk.number_placeholder"))
		}
		if d, ok := k.drafts[q.Name]; ok {
			e.SetText(d)
		} else {
			e.SetText(cur)
		}
		e.OnChanged = func(s string) {
			k.drafts[q.Name] = s
			v, m := k.check(q, s)
			setMsg(m)
			if m == "" && v != k.answers[q.Name] {
				k.put(q, v)
			}
		}
		return e
	}
}

// choiceLabels are the choices' labels in the UI language and their codes.
func choiceLabels(q *survey.Question, language string) (labels, codes []string) {
	for _, c := range q.List.Choices {
		labels = append(labels, c.Label.In(language))
		codes = append(codes, c.Name)
	}
	return labels, codes
}

func codeOf(labels, codes []string, label string) string {
	for i, l := range labels {
		if l == label {
			return codes[i]
		}
	}
	return ""
}

// check validates a typed or chosen value the way SaveAnswer will: type,
// then the constraint (its message from the form). It returns the
// canonical value, or the message to show.
func (k *Kiosk) check(q *survey.Question, value string) (string, string) {
	v, err := survey.Canonical(q, value)
	if err != nil {
		return "", typeMessage(q)
	}
	if v != "" && q.Constraint != nil {
		env := kioskEnv{answers: k.answers, self: v}
		if !survey.Truthy(q.Constraint, env) {
			if m := q.ConstraintMessage.In(k.deps.Lang); m != "" {
				return "", m
			}
			return "", lang.L("kiosk.constraint_failed")
		}
	}
	return v, ""
}

// typeMessage says what a question of q's type accepts.
func typeMessage(q *survey.Question) string {
	switch q.Type {
	case survey.TypeInteger:
		return lang.L("kiosk.bad_integer")
	case survey.TypeDecimal:
		return lang.L("kiosk.bad_decimal")
	case survey.TypeDate:
		return lang.L("kiosk.bad_date")
	}
	return lang.L("kiosk.bad_choice")
}

type kioskEnv struct {
	answers map[string]string
	self    string
}

func (e kioskEnv) Lookup(name string) string { return e.answers[name] }
func (e kioskEnv) Self() string              { return e.self }

// choose records a choice and redraws the page (skip logic may show or
// hide questions on it).
func (k *Kiosk) choose(q *survey.Question, value string) {
	v, m := k.check(q, value)
	if m != "" {
		k.msgs[q.Name] = m
		k.showPage()
		return
	}
	delete(k.msgs, q.Name)
	k.apply(q, v)
	k.showPage()
	k.save(q, v) // last: its report may come back at once
}

// put takes an answer and queues it for saving.
func (k *Kiosk) put(q *survey.Question, v string) {
	k.apply(q, v)
	k.save(q, v)
}

// apply takes an answer locally, hiding what it makes irrelevant as the
// store does in the same transaction.
func (k *Kiosk) apply(q *survey.Question, v string) {
	if v == "" {
		delete(k.answers, q.Name)
	} else {
		k.answers[q.Name] = v
	}
	for changed := true; changed; {
		changed = false
		for _, x := range k.form.Questions() {
			if _, ok := k.answers[x.Name]; ok && !k.form.Relevant(x, k.answers) {
				delete(k.answers, x.Name)
				delete(k.drafts, x.Name)
				changed = true
			}
		}
	}
}

// save queues the answer for the store (in order, off the UI goroutine).
func (k *Kiosk) save(q *survey.Question, v string) {
	id, name := k.resp.ID, q.Name
	k.setStatus(lang.L("kiosk.saving"), widget.LowImportance)
	k.saver.enqueue("answer:"+name, func(ctx context.Context) error {
		return k.deps.Survey.SaveAnswer(ctx, id, name, v)
	}, func(err error) {
		if err != nil {
			k.setStatus(lang.L("kiosk.save_failed", map[string]any{"Err": answerErrorText(err, k.deps.Lang)}), widget.DangerImportance)
			return
		}
		if k.saver.idle() {
			k.setStatus(lang.L("kiosk.saved"), widget.SuccessImportance)
		}
	})
}

func (k *Kiosk) setStatus(s string, imp widget.Importance) {
	if k.status == nil {
		k.status = widget.NewLabel("")
	}
	k.status.Importance = imp
	k.status.SetText(s)
}

// answerErrorText is a refused answer in words: the form's constraint
// message when there is one.
func answerErrorText(err error, language string) string {
	var ae *survey.AnswerError
	if errors.As(err, &ae) {
		if m := ae.Message.In(language); m != "" {
			return m
		}
	}
	return err.Error()
}

// pageProblems checks the current page before leaving it forward: typed
// values must be valid, required questions answered. It sets the messages
// and reports whether the page may be left.
func (k *Kiosk) pageProblems() bool {
	ok := true
	for _, q := range k.shown(k.pages[k.cur]) {
		if !q.Answerable() {
			continue
		}
		if d, has := k.drafts[q.Name]; has {
			if _, m := k.check(q, d); m != "" {
				k.msgs[q.Name] = m
				ok = false
				continue
			}
		}
		if q.Required && k.answers[q.Name] == "" {
			k.msgs[q.Name] = lang.L("kiosk.required")
			ok = false
		}
	}
	return ok
}

func (k *Kiosk) next() {
	if !k.pageProblems() {
		k.showPage()
		return
	}
	k.drafts = map[string]string{}
	if j := k.step(k.cur, +1); j >= 0 {
		k.cur = j
		k.showPage()
		return
	}
	k.finish()
}

func (k *Kiosk) back() {
	// Going back keeps what was typed; an invalid value is simply not saved.
	k.drafts = map[string]string{}
	k.msgs = map[string]string{}
	if j := k.step(k.cur, -1); j >= 0 {
		k.cur = j
	}
	k.showPage()
}

// finish completes the response after every queued answer is saved.
func (k *Kiosk) finish() {
	id := k.resp.ID
	k.setStatus(lang.L("kiosk.saving"), widget.LowImportance)
	k.saver.enqueue("", func(ctx context.Context) error {
		return k.deps.Survey.Complete(ctx, id)
	}, func(err error) {
		var me *survey.MissingError
		switch {
		case errors.As(err, &me):
			// Should not happen (each page checks): show the first one.
			for i, p := range k.pages {
				for _, q := range p.items {
					if q.Name == me.Questions[0] {
						k.cur = i
					}
				}
			}
			for _, name := range me.Questions {
				k.msgs[name] = lang.L("kiosk.required")
			}
			k.showPage()
		case err != nil:
			k.setStatus(lang.L("kiosk.save_failed", map[string]any{"Err": err.Error()}), widget.DangerImportance)
		default:
			k.done = true
			k.showEnd()
		}
	})
}

// showEnd thanks the monitor; staff reset the kiosk for the next one.
func (k *Kiosk) showEnd() {
	thanks := widget.NewLabelWithStyle(lang.L("kiosk.thanks"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	thanks.SizeName = theme.SizeNameHeadingText
	sub := widget.NewLabelWithStyle(lang.L("kiosk.thanks_sub"), fyne.TextAlignCenter, fyne.TextStyle{})
	sub.Wrapping = fyne.TextWrapWord
	reset := widget.NewButtonWithIcon(lang.L("kiosk.reset"), theme.ViewRefreshIcon(), func() {
		k.askPIN(lang.L("kiosk.reset_title"), k.showSetup)
	})
	page := container.NewBorder(container.NewBorder(nil, nil, nil, k.exitButton()), container.NewCenter(reset), nil, nil,
		container.NewCenter(container.NewVBox(thanks, sub)))
	k.setContent(container.NewThemeOverride(container.NewPadded(page), newKioskTheme()))
}

// kioskSaver runs saves one after another, in the order given, off the UI
// goroutine; a newer value for the same question replaces one still
// waiting (typing saves as it goes without queueing every keystroke).
type kioskSaver struct {
	k       *Kiosk
	mu      sync.Mutex
	queue   []*kioskJob
	running bool
}

type kioskJob struct {
	key    string
	work   func(ctx context.Context) error
	onDone func(error)
}

func (s *kioskSaver) enqueue(key string, work func(ctx context.Context) error, onDone func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != "" {
		for _, j := range s.queue {
			if j.key == key {
				j.work, j.onDone = work, onDone
				return
			}
		}
	}
	tasks.Add(1)
	s.queue = append(s.queue, &kioskJob{key: key, work: work, onDone: onDone})
	if !s.running {
		s.running = true
		go s.run()
	}
}

func (s *kioskSaver) run() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		j := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		err := j.work(context.Background())
		fyne.Do(func() {
			j.onDone(err)
			tasks.Done()
		})
	}
}

func (s *kioskSaver) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) == 0
}

// formChoices is the newest version of each registered form, in the
// trial's order of forms.
func formChoices(infos []survey.FormInfo) []survey.FormInfo {
	latest := map[string]survey.FormInfo{}
	for _, in := range infos {
		if old, ok := latest[in.ID]; !ok || in.Ref > old.Ref {
			latest[in.ID] = in
		}
	}
	order := map[string]int{"ticket_application": 0, "ticket_purchase": 1, "ticket_entry": 2, "bank_login": 3, "lent_phone": 4, "overall": 5}
	out := make([]survey.FormInfo, 0, len(latest))
	for _, in := range latest {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, ok := order[out[i].ID]
		if !ok {
			ri = 100
		}
		rj, ok := order[out[j].ID]
		if !ok {
			rj = 100
		}
		if ri != rj {
			return ri < rj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func formLabel(in survey.FormInfo) string {
	return fmt.Sprintf("%s (%s %s)", in.Title, in.ID, in.Version)
}

// tightLabelTheme is the kiosk theme with almost no padding inside a label.
type tightLabelTheme struct{ fyne.Theme }

func (t tightLabelTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameInnerPadding {
		return 2
	}
	return t.Theme.Size(n)
}
