package cli

import (
	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// The services a command builds on the store get what the session gives:
// the data key to seal and open personal fields. The audit actor travels
// in env.Ctx.

// openStore opens the store named by --db (migrated to the newest version)
// and a trial service on it that seals and opens personal fields with the
// logged-in account's data key. The caller closes db.
func openStore(env *Env) (*store.DB, *trial.Service, error) {
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return nil, nil, err
	}
	return db, trialService(env, db), nil
}

// trialService is the trial service on db for env's session.
func trialService(env *Env, db *store.DB) *trial.Service {
	svc := trial.New(db)
	svc.PII = env.PII
	return svc
}

// openTrialStore is openStore for commands that need only the service.
func openTrialStore(env *Env) (*trial.Service, func(), error) {
	db, svc, err := openStore(env)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}

// openDesk opens the store and the loan desk on it.
func openDesk(env *Env) (*trial.Loans, func(), error) {
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return nil, nil, err
	}
	desk := trial.NewLoans(db)
	desk.PII = env.PII // the monitor's name in reminders and the loans CSV
	return desk, func() { db.Close() }, nil
}

// openSurveyStore opens the store and the questionnaire service on it.
func openSurveyStore(env *Env) (*survey.Service, func(), error) {
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return nil, nil, err
	}
	return survey.New(db), func() { db.Close() }, nil
}
