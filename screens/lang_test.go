package screens

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"fyne.io/fyne/v2/lang"

	"jpkipilot/assets"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
)

func loadJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := assets.Translations.ReadFile(assets.TranslationsDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestTranslationsHaveTheSameKeys(t *testing.T) {
	ja, en := loadJSON(t, "ja.json"), loadJSON(t, "en.json")
	for k := range ja {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in ja.json but not in en.json", k)
		}
	}
	for k := range en {
		if _, ok := ja[k]; !ok {
			t.Errorf("key %q is in en.json but not in ja.json", k)
		}
	}
}

// usedKey finds literal keys passed to lang.L / lang.X in the source.
var usedKey = regexp.MustCompile(`lang\.[LX]\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]`)

// reasonKey finds reason keys written out in the source (the trial
// package's codes are added below).
var reasonKey = regexp.MustCompile(`"(reason\.[a-z_]+)"`)

func TestEveryKeyUsedInCodeIsTranslated(t *testing.T) {
	ja, en := loadJSON(t, "ja.json"), loadJSON(t, "en.json")
	var files []string
	for _, dir := range []string{".", "../app"} {
		fs, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		files = append(files, fs...)
	}
	used := map[string]string{}
	for _, f := range files {
		if filepath.Base(f) == "lang_test.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usedKey.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = f
		}
		for _, m := range reasonKey.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = f
		}
	}
	// Keys built from values at run time.
	for _, k := range trial.Kinds {
		used["kind."+string(k)] = "labels.go"
	}
	for _, s := range append([]trial.Step{trial.StepNone}, trial.Steps...) {
		if s == trial.StepNone {
			used["step.none"] = "labels.go"
			continue
		}
		used["step."+string(s)] = "labels.go"
	}
	for _, s := range trial.Statuses {
		used["status."+string(s)] = "labels.go"
	}
	for _, l := range Languages {
		used["lang."+l] = "settings.go"
	}
	for c := range trial.ReasonCodes {
		used[trialReasonKey(c)] = "labels.go"
	}
	for _, r := range staff.Reasons {
		used[staffReasonKey(r)] = "staff.go"
	}
	if len(used) < 20 {
		t.Fatalf("found only %d keys in the source: the pattern is broken", len(used))
	}
	var missing []string
	for k, f := range used {
		if _, ok := ja[k]; !ok {
			missing = append(missing, "ja.json lacks "+k+" (used in "+f+")")
		}
		if _, ok := en[k]; !ok {
			missing = append(missing, "en.json lacks "+k+" (used in "+f+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}

func TestLoadTranslationsSwitchesLanguage(t *testing.T) {
	// A desktop session in the C locale hides LANGUAGE from Fyne; the
	// chosen language must win anyway.
	t.Setenv("LANG", "C")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANGUAGE", "")
	for _, c := range []struct{ lang, want string }{
		{"en", "Dashboard"}, {"ja", "ダッシュボード"}, {"", "ダッシュボード"}, {"en", "Dashboard"},
	} {
		if err := LoadTranslations(c.lang); err != nil {
			t.Fatal(err)
		}
		if got := lang.L("nav.dashboard"); got != c.want {
			t.Errorf("after LoadTranslations(%q): nav.dashboard = %q, want %q", c.lang, got, c.want)
		}
	}
	if err := LoadTranslations("fr"); err == nil {
		t.Error("LoadTranslations(fr) succeeded; want an error")
	}
	// Fyne's own dialog buttons are translated too.
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Cancel"); got != "キャンセル" {
		t.Errorf("Cancel = %q in Japanese", got)
	}
}
