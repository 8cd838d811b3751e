package survey_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
)

// The kiosk's promise: an answer given is on disk. A child process answers
// three questions and is killed (SIGKILL, no clean-up) while the
// questionnaire is open; reopening the store resumes with all three.
func TestAnswersSurviveKilledProcess(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/kiosk.db"
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addFixture(t, db, [3]string{"M-0001", "山田太郎", "attended"})
	svc := survey.New(db)
	infos, err := svc.AddBundled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Start(ctx, infos[2].Ref, survey.Subject{MonitorID: "M-0001", Step: "entry"}) // ticket_entry
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKioskChild$")
	cmd.Env = append(os.Environ(), "SURVEY_CHILD_DB="+path, "SURVEY_CHILD_RESPONSE="+strconv.FormatInt(r.ID, 10))
	stdin, _ := cmd.StdinPipe() // never written: the child waits on it
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	saved := 0
	for saved < 3 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "saved ") {
			saved++
		}
	}
	if saved < 3 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child reported %d answers saved", saved)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	db2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got, err := survey.New(db2).Resume(ctx, "M-0001", "ticket_entry")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"entry_method": "card", "convenience": "2", "willingness": "3"}
	for k, v := range want {
		if got.Answers[k] != v {
			t.Errorf("after the kill %s = %q, want %q (answers %v)", k, got.Answers[k], v, got.Answers)
		}
	}
}

// TestKioskChild is the killed process of TestAnswersSurviveKilledProcess.
func TestKioskChild(t *testing.T) {
	path := os.Getenv("SURVEY_CHILD_DB")
	if path == "" {
		return // a helper process, not a test of its own (the TestHelperProcess idiom)
	}
	ctx := context.Background()
	id, _ := strconv.ParseInt(os.Getenv("SURVEY_CHILD_RESPONSE"), 10, 64)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	svc := survey.New(db)
	for _, a := range [][2]string{{"entry_method", "card"}, {"convenience", "2"}, {"willingness", "3"}} {
		if err := svc.SaveAnswer(ctx, id, a[0], a[1]); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("saved %s\n", a[0])
	}
	io.Copy(io.Discard, os.Stdin) // hold the store open until killed
}
