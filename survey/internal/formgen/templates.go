package formgen

// The seed's questionnaires (実証 §3.1.4): convenience (利便性) and
// willingness to use (利用意向) for each step, the reasons the committee
// found (where to hold the card, when reading finished, worry about PIN-less
// checks, fear of losing the card), and free comments; the bank login
// comparison of the card with one-time passwords; the lent phone; overall.

// Version of every bundled template; bump it when a template changes.
const Version = "2026.1"

var surveyHeader = []string{"type", "name", "label::Japanese (ja)", "label::English (en)",
	"hint::Japanese (ja)", "hint::English (en)", "required", "relevant", "constraint",
	"constraint_message::Japanese (ja)", "constraint_message::English (en)"}

var choicesHeader = []string{"list_name", "name", "label::Japanese (ja)", "label::English (en)"}

// q is one survey row.
type q struct {
	typ, name, ja, en, hintJa, hintEn, required, relevant, constraint, msgJa, msgEn string
}

func (r q) row() []string {
	return []string{r.typ, r.name, r.ja, r.en, r.hintJa, r.hintEn, r.required, r.relevant, r.constraint, r.msgJa, r.msgEn}
}

// Template is one bundled form.
type Template struct {
	File, FormID, TitleJa, TitleEn string
	Rows                           []q
}

// sharedChoices are the lists every template carries (a form only uses some).
var sharedChoices = [][]string{
	{"conv5", "1", "とても不便", "Very inconvenient"},
	{"conv5", "2", "やや不便", "Somewhat inconvenient"},
	{"conv5", "3", "どちらともいえない", "Neither"},
	{"conv5", "4", "やや便利", "Somewhat convenient"},
	{"conv5", "5", "とても便利", "Very convenient"},
	{"will5", "1", "利用したくない", "Would not use it"},
	{"will5", "2", "あまり利用したくない", "Would rather not use it"},
	{"will5", "3", "どちらともいえない", "Undecided"},
	{"will5", "4", "やや利用したい", "Would probably use it"},
	{"will5", "5", "ぜひ利用したい", "Would definitely use it"},
	{"reasons", "where_to_hold", "かざす場所がわからない", "Could not tell where to hold the card"},
	{"reasons", "read_done", "読取完了がわからない", "Could not tell when reading had finished"},
	{"reasons", "pinless_worry", "PINなし認証が不安", "PIN-less authentication felt unsafe"},
	{"reasons", "card_loss", "カード紛失が心配", "Worried about losing the card"},
	{"reasons", "slow", "時間がかかった", "It took too long"},
	{"reasons", "other", "その他", "Other"},
	{"entry_method", "card", "マイナンバーカード（PINなし）", "My Number card (no PIN)"},
	{"entry_method", "phone", "スマートフォン（PIN入力）", "Smartphone (with PIN)"},
	{"prefer", "card", "カードをかざすログイン", "Holding the card"},
	{"prefer", "otp", "ワンタイムパスワード", "One-time password"},
	{"prefer", "either", "どちらでもよい", "No preference"},
	{"troubles", "battery", "電池の減りが早い", "Battery drained quickly"},
	{"troubles", "nfc_off", "NFCがオフになっていた", "NFC was switched off"},
	{"troubles", "app_error", "アプリのエラー", "App error"},
	{"troubles", "none", "特になし", "None"},
}

// stepRows are the questions common to the ticket steps.
func stepRows(stepJa, stepEn string) []q {
	return []q{
		{typ: "note", name: "intro", ja: stepJa + "についてお聞きします。", en: "About " + stepEn + "."},
		{typ: "select_one conv5", name: "convenience", ja: stepJa + "の利便性はいかがでしたか。", en: "How convenient was " + stepEn + "?", required: "yes"},
		{typ: "select_one will5", name: "willingness", ja: "今後、この方法を利用したいと思いますか。", en: "Would you use this in future?", required: "yes"},
		{typ: "select_multiple reasons", name: "reasons", ja: "不便・不安に感じた理由をお選びください（複数可）。", en: "Why was it inconvenient or worrying? (choose all that apply)",
			hintJa: "あてはまるものすべて", hintEn: "All that apply", relevant: "${convenience} <= 3 or ${willingness} <= 3"},
		{typ: "text", name: "reasons_other", ja: "「その他」の内容をご記入ください。", en: "Please describe \"other\".", relevant: "selected(${reasons}, 'other')", required: "yes",
			constraint: "string-length(.) <= 400", msgJa: "400字以内でご記入ください。", msgEn: "Please keep it to 400 characters."},
		{typ: "text", name: "comment", ja: "ご意見・ご感想をご自由にお書きください。", en: "Any other comments?",
			constraint: "string-length(.) <= 2000", msgJa: "2000字以内でご記入ください。", msgEn: "Please keep it to 2000 characters."},
	}
}

// Templates lists the bundled forms.
func Templates() []Template {
	app := stepRows("チケットの申込", "applying for the ticket")
	purchase := stepRows("コンビニでの購入（カードをかざして支払い）", "paying at the convenience store with the card")
	gate := stepRows("会場への入場", "entering the venue")
	entry := append([]q{gate[0],
		{typ: "select_one entry_method", name: "entry_method", ja: "入場に使ったものはどれですか。", en: "What did you use to enter?", required: "yes"}},
		gate[1:]...)
	bank := []q{
		{typ: "note", name: "intro", ja: "インターネットバンキングのログインについてお聞きします。", en: "About logging in to internet banking."},
		{typ: "select_one conv5", name: "convenience", ja: "カードをかざすログインの利便性はいかがでしたか。", en: "How convenient was logging in by holding the card?", required: "yes"},
		{typ: "select_one conv5", name: "otp_convenience", ja: "ワンタイムパスワードでのログインの利便性はいかがでしたか。", en: "How convenient is logging in with a one-time password?", required: "yes"},
		{typ: "select_one prefer", name: "prefer", ja: "今後使いたいのはどちらですか。", en: "Which would you rather use?", required: "yes"},
		{typ: "select_one prefer", name: "safer", ja: "より安心だと感じたのはどちらですか。", en: "Which felt safer?", required: "yes"},
		{typ: "select_one will5", name: "willingness", ja: "カードをかざすログインを今後利用したいと思いますか。", en: "Would you log in with the card in future?", required: "yes"},
		{typ: "select_multiple reasons", name: "reasons", ja: "不便・不安に感じた理由をお選びください（複数可）。", en: "Why was it inconvenient or worrying? (choose all that apply)",
			relevant: "${convenience} <= 3 or ${prefer} = 'otp'"},
		{typ: "text", name: "comment", ja: "ご意見・ご感想をご自由にお書きください。", en: "Any other comments?"},
	}
	lent := []q{
		{typ: "note", name: "intro", ja: "貸出スマートフォンの利用についてお聞きします。", en: "About the phone lent to you."},
		{typ: "integer", name: "days_used", ja: "何日間ご利用になりましたか。", en: "On how many days did you use it?", required: "yes",
			constraint: ". >= 0 and . <= 14", msgJa: "0〜14の数字でご記入ください。", msgEn: "Enter a number from 0 to 14."},
		{typ: "date", name: "returned_on", ja: "返却日", en: "Date returned"},
		{typ: "begin_group", name: "usage", ja: "ご利用の感想", en: "Your experience", relevant: "${days_used} > 0"},
		{typ: "select_one conv5", name: "convenience", ja: "カードをかざす操作の利便性はいかがでしたか。", en: "How convenient was holding the card to the phone?", required: "yes"},
		{typ: "select_one will5", name: "willingness", ja: "ご自身のスマートフォンでも利用したいと思いますか。", en: "Would you use it on your own phone?", required: "yes"},
		{typ: "select_multiple troubles", name: "troubles", ja: "困ったことはありましたか（複数可）。", en: "Did anything go wrong? (choose all that apply)",
			constraint: "not(selected(., 'none')) or count-selected(.) = 1", msgJa: "「特になし」は他と同時に選べません。", msgEn: "\"None\" cannot be combined with other answers."},
		{typ: "select_multiple reasons", name: "reasons", ja: "不便・不安に感じた理由をお選びください（複数可）。", en: "Why was it inconvenient or worrying? (choose all that apply)",
			relevant: "${convenience} <= 3"},
		{typ: "end_group"},
		{typ: "text", name: "comment", ja: "ご意見・ご感想をご自由にお書きください。", en: "Any other comments?"},
	}
	overall := []q{
		{typ: "note", name: "intro", ja: "実証全体についてお聞きします。", en: "About the trial as a whole."},
		{typ: "select_one conv5", name: "convenience", ja: "スマートフォンで公的個人認証を使うことは便利だと思いますか。", en: "Is using JPKI on a smartphone convenient?", required: "yes"},
		{typ: "select_one will5", name: "willingness", ja: "サービスが始まったら利用したいと思いますか。", en: "Would you use the service once it starts?", required: "yes"},
		{typ: "select_multiple reasons", name: "reasons", ja: "気になった点をお選びください（複数可）。", en: "What concerned you? (choose all that apply)"},
		{typ: "decimal", name: "fee_yen", ja: "1回あたり支払ってもよい手数料（円）", en: "Fee per use you would accept (yen)",
			constraint: ". >= 0", msgJa: "0以上の金額をご記入ください。", msgEn: "Enter zero or more."},
		{typ: "text", name: "comment", ja: "ご意見・ご感想をご自由にお書きください。", en: "Any other comments?"},
	}
	return []Template{
		{"ticket_application.xlsx", "ticket_application", "チケット申込アンケート", "Ticket application questionnaire", app},
		{"ticket_purchase.xlsx", "ticket_purchase", "チケット購入アンケート", "Ticket purchase questionnaire", purchase},
		{"ticket_entry.xlsx", "ticket_entry", "入場アンケート", "Venue entry questionnaire", entry},
		{"bank_login.xlsx", "bank_login", "インターネットバンキング ログインアンケート", "Internet banking login questionnaire", bank},
		{"lent_phone.xlsx", "lent_phone", "貸出スマートフォン アンケート", "Lent phone questionnaire", lent},
		{"overall.xlsx", "overall", "実証全体アンケート", "Overall questionnaire", overall},
	}
}

// Build writes a template as an XLSForm workbook.
func (t Template) Build() ([]byte, error) {
	rows := [][]string{surveyHeader}
	for _, r := range t.Rows {
		rows = append(rows, r.row())
	}
	choices := append([][]string{choicesHeader}, sharedChoices...)
	settings := [][]string{{"form_id", "version", "form_title", "default_language"}, {t.FormID, Version, t.TitleJa + " / " + t.TitleEn, "Japanese (ja)"}}
	return Workbook(Sheet{"survey", rows}, Sheet{"choices", choices}, Sheet{"settings", settings})
}
