package trial

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
)

// ErrNotEmpty is returned by SeedDemo when the store already holds trials.
var ErrNotEmpty = errors.New("the database already holds trials; demo data is only added to an empty database")

// DemoSummary says what SeedDemo created.
type DemoSummary struct {
	Trials, Sessions, Monitors int
}

// demoTrial is one trial of the demo data with its sessions and how many
// monitors each gets.
type demoTrial struct {
	trial    Trial
	sessions []demoSession
}

type demoSession struct {
	Session
	monitors   int
	companions int // how many of them came as someone's companion
}

// demoTrials are the seed's trials (H28 JPKI smartphone trial): the bank
// loan trial (10–20 monitors, phones lent for two weeks), the bank venue
// trial (80–90 on site) and the ticketless field trial (application 24
// including companions, purchase 11, entry 22), with the seed's dates and
// venues where it gives them.
func demoTrials() []demoTrial {
	return []demoTrial{
		{
			trial: Trial{Name: "インターネットバンキング 貸出実証", Kind: KindLoan, LoanDays: DefaultLoanDays,
				Notes: "実証用スマートフォンを2週間貸出。実証データ（残高・入出金明細）は貸出中に1回更新。"},
			sessions: []demoSession{
				{Session: Session{Code: "LOAN-1", StartsOn: "2017-01-16", Venue: "貸出窓口（第1期）", Capacity: 10, Target: 8}, monitors: 8},
				{Session: Session{Code: "LOAN-2", StartsOn: "2017-01-30", Venue: "貸出窓口（第2期）", Capacity: 10, Target: 7}, monitors: 7},
			},
		},
		{
			trial: Trial{Name: "インターネットバンキング 会場実証", Kind: KindVenue, LoanDays: DefaultLoanDays,
				Notes: "実証会場でモニターが実証用スマートフォンを操作。ワンタイムパスワードとの比較。"},
			sessions: []demoSession{
				{Session: Session{Code: "VENUE-1", StartsOn: "2017-02-18", Venue: "実証会場 1日目", Capacity: 50, Target: 45}, monitors: 43},
				{Session: Session{Code: "VENUE-2", StartsOn: "2017-02-19", Venue: "実証会場 2日目", Capacity: 50, Target: 45}, monitors: 42},
			},
		},
		{
			trial: Trial{Name: "チケットレスサービス 実地実証", Kind: KindField, LoanDays: DefaultLoanDays,
				Notes: "申込・購入・入場をマイナンバーカードで。同行者も譲渡・入場時にカードで本人確認。"},
			sessions: []demoSession{
				{Session: Session{Code: "FIELD-APPLY", Step: StepApplication, StartsOn: "2017-02-07", Venue: "ぴあ社会議室", Capacity: 30, Target: 24}, monitors: 24, companions: 6},
				{Session: Session{Code: "FIELD-BUY", Step: StepPurchase, StartsOn: "2017-02-26", Venue: "セブン-イレブン 虎ノ門タワーズオフィス店", Capacity: 15, Target: 11}, monitors: 11},
				{Session: Session{Code: "FIELD-ENTRY", Step: StepEntry, StartsOn: "2017-03-11", Venue: "代々木第二体育館（Bリーグ アルバルク東京 vs 大阪エヴェッサ）", Capacity: 30, Target: 22}, monitors: 22},
			},
		},
	}
}

var demoFamily = []struct{ kanji, kana string }{
	{"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"高橋", "タカハシ"}, {"田中", "タナカ"}, {"伊藤", "イトウ"},
	{"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"}, {"加藤", "カトウ"},
	{"吉田", "ヨシダ"}, {"山田", "ヤマダ"}, {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"},
	{"井上", "イノウエ"}, {"木村", "キムラ"}, {"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"清水", "シミズ"},
	{"森", "モリ"}, {"池田", "イケダ"}, {"橋本", "ハシモト"}, {"石川", "イシカワ"},
}

var demoGiven = []struct{ kanji, kana string }{
	{"太郎", "タロウ"}, {"花子", "ハナコ"}, {"翔太", "ショウタ"}, {"陽菜", "ヒナ"}, {"大輔", "ダイスケ"},
	{"美咲", "ミサキ"}, {"健一", "ケンイチ"}, {"由美", "ユミ"}, {"誠", "マコト"}, {"恵子", "ケイコ"},
	{"拓也", "タクヤ"}, {"彩", "アヤ"}, {"直樹", "ナオキ"}, {"千尋", "チヒロ"}, {"浩二", "コウジ"},
	{"優子", "ユウコ"}, {"亮", "リョウ"}, {"真由美", "マユミ"}, {"隆", "タカシ"}, {"さくら", "サクラ"},
}

// SeedDemo fills an empty store with the seed's trials, sessions and 157
// monitors with generated Japanese names (example.jp contacts), consent
// mostly on record, and a few withdrawals. It refuses with ErrNotEmpty when
// any trial exists, and writes everything in one transaction. The data is
// the same on every run (fixed random seed; ids follow the store's counter).
// Personal fields are sealed with the service's key; a sealed store without
// it gets pii.ErrLocked. One audit.MonitorImport entry records the seeding.
func (s *Service) SeedDemo(ctx context.Context) (DemoSummary, error) {
	var sum DemoSummary
	rng := rand.New(rand.NewPCG(2017, 3))
	now := s.now()
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM trials"); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w (%d trials)", ErrNotEmpty, n)
		}
		w, err := modeFor(ctx, tx, s.PII)
		if err != nil {
			return err
		}
		if w.locked {
			return pii.ErrLocked
		}
		var ms []Monitor
		var withdraw []int
		companionOf := map[int]int{} // monitor index -> index of the one they came with
		used := map[string]bool{}
		for _, dt := range demoTrials() {
			t := dt.trial
			t.CreatedAt = now
			if err := t.Validate(); err != nil {
				return err
			}
			if err := insertReturningID(ctx, tx, &t.ID,
				"INSERT INTO trials (name, kind, loan_days, notes, created_at) VALUES (?, ?, ?, ?, ?)",
				t.Name, t.Kind, t.LoanDays, t.Notes, t.CreatedAt); err != nil {
				return err
			}
			sum.Trials++
			for _, ds := range dt.sessions {
				se := ds.Session
				se.TrialID = t.ID
				if err := se.Validate(t.Kind); err != nil {
					return err
				}
				if err := insertReturningID(ctx, tx, &se.ID,
					"INSERT INTO sessions (trial_id, code, step, starts_on, venue, capacity, target) VALUES (?, ?, ?, ?, ?, ?, ?)",
					se.TrialID, se.Code, se.Step, se.StartsOn, se.Venue, se.Capacity, se.Target); err != nil {
					return err
				}
				sum.Sessions++
				start := len(ms)
				for i := 0; i < ds.monitors; i++ {
					m := demoMonitor(rng, used, len(ms)+1)
					m.TrialID, m.CreatedAt, m.UpdatedAt = t.ID, now, now
					sid := se.ID
					m.SessionID = &sid
					switch r := rng.IntN(20); {
					case r == 0: // consent form not yet collected
					default:
						m.Consent = Consent{FormVersion: "v1.0", SignedOn: se.StartsOn, Staff: demoStaff[rng.IntN(len(demoStaff))]}
					}
					switch r := rng.IntN(10); {
					case r < 5:
						m.Status = StatusCompleted
					case r < 8:
						m.Status = StatusAttended
					default:
						m.Status = StatusEnrolled
					}
					if i >= ds.monitors-ds.companions {
						// A companion came with one of the session's first monitors.
						companionOf[len(ms)] = start + rng.IntN(ds.monitors-ds.companions)
					}
					ms = append(ms, m)
				}
				// One withdrawal in each of the larger sessions.
				if ds.monitors >= 20 {
					withdraw = append(withdraw, start+ds.monitors/2)
				}
			}
		}
		first, err := allocateIDs(ctx, tx, len(ms))
		if err != nil {
			return err
		}
		for i := range ms {
			ms[i].ID = FormatMonitorID(first + int64(i))
		}
		for i, c := range companionOf {
			id := ms[c].ID
			ms[i].CompanionOf = &id
		}
		for _, i := range withdraw {
			m := &ms[i]
			at := now
			m.Name, m.Kana, m.Contact, m.Status, m.WithdrawnAt = "", "", "", StatusWithdrawn, &at
		}
		for i := range ms {
			if err := ms[i].Validate(); err != nil {
				return fmt.Errorf("demo monitor %d: %w", i, err)
			}
		}
		sum.Monitors = len(ms)
		if err := w.sealMonitors(ms); err != nil {
			return err
		}
		if err := insertMonitors(ctx, tx, ms, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.MonitorImport, ms[0].ID+"–"+ms[len(ms)-1].ID,
			fmt.Sprintf("demo data: %d trials, %d sessions, %d monitors", sum.Trials, sum.Sessions, sum.Monitors))
	})
	if err != nil {
		return DemoSummary{}, fmt.Errorf("demo seed: %w", err)
	}
	return sum, nil
}

var demoStaff = []string{"受付 青木", "受付 村上", "事務局 岡田"}

var demoBands = []string{"20s", "30s", "30s", "40s", "40s", "50s", "60s", "70+"}

// demoMonitor makes up a person whose name is not yet in used.
func demoMonitor(rng *rand.Rand, used map[string]bool, n int) Monitor {
	for {
		f := demoFamily[rng.IntN(len(demoFamily))]
		g := demoGiven[rng.IntN(len(demoGiven))]
		name := f.kanji + " " + g.kanji
		if used[name] {
			continue
		}
		used[name] = true
		return Monitor{
			Name:    name,
			Kana:    f.kana + " " + g.kana,
			AgeBand: demoBands[rng.IntN(len(demoBands))],
			Contact: fmt.Sprintf("monitor%03d@example.jp", n),
		}
	}
}
