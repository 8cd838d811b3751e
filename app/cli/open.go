package cli

import (
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

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
