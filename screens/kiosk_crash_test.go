package screens

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
)

// The kiosk's promise: an answer given is on disk. A child process runs the
// kiosk (Fyne's test driver, a real SQLite file), answers three questions
// and is killed with SIGKILL while the questionnaire is open; the reopened
// store holds every answer, and a new kiosk resumes at the next question.
func TestKioskAnswersSurviveKilledProcess(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	monitor := s.attendedMonitor(t).ID
	path := s.path
	s.db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKioskChildProcess$")
	cmd.Env = append(os.Environ(), "KIOSK_CHILD_DB="+path, "KIOSK_CHILD_MONITOR="+monitor)
	stdin, err := cmd.StdinPipe() // never written: the child waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	answered := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(answered) < 3 && sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "answered" {
			answered[f[1]] = f[2]
		}
	}
	if len(answered) < 3 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child reported only %v", answered)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child was not killed: %v", err)
	}

	s2 := openSurveyStore(t, path)
	r, err := s2.survey.Resume(context.Background(), monitor, "ticket_entry")
	if err != nil {
		t.Fatal(err)
	}
	for q, v := range answered {
		if r.Answers[q] != v {
			t.Errorf("after the kill %s = %q, want %q (answers %v)", q, r.Answers[q], v, r.Answers)
		}
	}
	w := newWindow(t)
	s2.login(t)
	k := startKiosk(t, w, s2, monitor, "ticket_entry")
	if k.resp.ID != r.ID {
		t.Fatalf("the reopened kiosk started response %d, want to resume %d", k.resp.ID, r.ID)
	}
	if got := pageQuestions(k); len(got) != 1 || got[0] != "reasons" {
		t.Errorf("resumed at %v, want reasons (the question after the three answered)", got)
	}
}

// TestKioskChildProcess is the killed process of
// TestKioskAnswersSurviveKilledProcess.
func TestKioskChildProcess(t *testing.T) {
	path := os.Getenv("KIOSK_CHILD_DB")
	if path == "" {
		return // a helper process, not a test of its own (the TestHelperProcess idiom)
	}
	s := openSurveyStore(t, filepath.Clean(path))
	s.login(t)
	w := newWindow(t)
	k := startKiosk(t, w, s, os.Getenv("KIOSK_CHILD_MONITOR"), "ticket_entry")
	tapButton(t, w, lang.L("kiosk.next"))
	findRadio(t, w.Canvas()).SetSelected("スマートフォン（PIN入力）")
	waitIdle() // the save has returned: the answer is committed
	fmt.Println("answered entry_method phone")
	tapButton(t, w, lang.L("kiosk.next"))
	tapButton(t, w, "2")
	fmt.Println("answered convenience 2")
	tapButton(t, w, lang.L("kiosk.next"))
	tapButton(t, w, "3")
	fmt.Println("answered willingness 3")
	test.Tap(findButton(t, w.Canvas(), lang.L("kiosk.next")))
	waitIdle()
	if k.resp == nil {
		t.Fatal("no response")
	}
	io.Copy(io.Discard, os.Stdin) // hold the store open until killed
}
