package survey

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// Service keeps questionnaires and their responses in the store.
type Service struct {
	DB  *store.DB
	Now func() time.Time

	mu    sync.Mutex
	forms map[int64]*Form // parsed registered forms by survey_forms.id
}

// New returns a Service on db.
func New(db *store.DB) *Service {
	return &Service{DB: db, Now: func() time.Time { return time.Now().UTC() }, forms: map[int64]*Form{}}
}

// FormInfo is one registered form version.
type FormInfo struct {
	Ref     int64     `db:"id"` // the store's id of this version
	ID      string    `db:"form_id"`
	Version string    `db:"version"`
	Title   string    `db:"title"`
	Hash    string    `db:"content_hash"`
	AddedAt time.Time `db:"added_at"`
}

// ErrVersionConflict refuses a form version whose content differs from the
// one registered under the same form_id and version.
var ErrVersionConflict = errors.New("already registered with different questions")

// AddForm validates an XLSForm workbook and registers it. Registering the
// same version again with the same content is a no-op (added = false); with
// different content it is refused, because answers given under that version
// must keep meaning what they meant.
func (s *Service) AddForm(ctx context.Context, src []byte) (info FormInfo, added bool, err error) {
	f, err := ParseXLSForm(src)
	if err != nil {
		return FormInfo{}, false, err
	}
	hash := f.Hash()
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &info, tx.Rebind(`SELECT id, form_id, version, title, content_hash, added_at
			FROM survey_forms WHERE form_id = ? AND version = ?`), f.ID, f.Version)
		if err == nil {
			if info.Hash != hash {
				return fmt.Errorf("form %s version %s is %w; raise the version on the settings sheet", f.ID, f.Version, ErrVersionConflict)
			}
			return nil
		}
		if !errors.Is(store.MapErr(err), store.ErrNotFound) {
			return err
		}
		info = FormInfo{ID: f.ID, Version: f.Version, Title: f.Title, Hash: hash, AddedAt: s.Now()}
		added = true
		return tx.GetContext(ctx, &info.Ref, tx.Rebind(`INSERT INTO survey_forms (form_id, version, title, content_hash, source, added_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), f.ID, f.Version, f.Title, hash, src, info.AddedAt)
	})
	if err != nil {
		if store.IsUniqueViolation(err) { // another laptop registered it at the same moment
			return s.AddForm(ctx, src)
		}
		return FormInfo{}, false, fmt.Errorf("survey: add form: %w", err)
	}
	s.mu.Lock()
	s.forms[info.Ref] = f
	s.mu.Unlock()
	return info, added, nil
}

// AddBundled registers the bundled templates (already registered versions
// are left alone) and returns them in the trial's order.
func (s *Service) AddBundled(ctx context.Context) ([]FormInfo, error) {
	srcs, err := BundledSources()
	if err != nil {
		return nil, err
	}
	var out []FormInfo
	for name, src := range srcs {
		info, _, err := s.AddForm(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("bundled form %s: %w", name, err)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return bundledRank(out[i].ID) < bundledRank(out[j].ID) })
	return out, nil
}

const formCols = `id, form_id, version, title, content_hash, added_at`

// Forms lists every registered form version, oldest first.
func (s *Service) Forms(ctx context.Context) ([]FormInfo, error) {
	var out []FormInfo
	err := s.DB.SelectContext(ctx, &out, `SELECT `+formCols+` FROM survey_forms ORDER BY form_id, id`)
	return out, store.MapErr(err)
}

// FormInfo returns the registered version ref.
func (s *Service) FormInfo(ctx context.Context, ref int64) (FormInfo, error) {
	var info FormInfo
	err := s.DB.GetContext(ctx, &info, s.DB.Rebind(`SELECT `+formCols+` FROM survey_forms WHERE id = ?`), ref)
	if err != nil {
		return info, fmt.Errorf("survey: form #%d: %w", ref, store.MapErr(err))
	}
	return info, nil
}

// Latest returns the most recently registered version of formID.
func (s *Service) Latest(ctx context.Context, formID string) (FormInfo, error) {
	var info FormInfo
	err := s.DB.GetContext(ctx, &info, s.DB.Rebind(`SELECT `+formCols+` FROM survey_forms WHERE form_id = ? ORDER BY id DESC LIMIT 1`), formID)
	if err != nil {
		return info, fmt.Errorf("survey: form %s: %w", formID, store.MapErr(err))
	}
	return info, nil
}

// Version returns the registered version of formID.
func (s *Service) Version(ctx context.Context, formID, version string) (FormInfo, error) {
	var info FormInfo
	err := s.DB.GetContext(ctx, &info, s.DB.Rebind(`SELECT `+formCols+` FROM survey_forms WHERE form_id = ? AND version = ?`), formID, version)
	if err != nil {
		return info, fmt.Errorf("survey: form %s version %s: %w", formID, version, store.MapErr(err))
	}
	return info, nil
}

// Form returns the parsed questions of registered version ref.
func (s *Service) Form(ctx context.Context, ref int64) (*Form, error) {
	s.mu.Lock()
	f := s.forms[ref]
	s.mu.Unlock()
	if f != nil {
		return f, nil
	}
	var src []byte
	if err := s.DB.GetContext(ctx, &src, s.DB.Rebind(`SELECT source FROM survey_forms WHERE id = ?`), ref); err != nil {
		return nil, fmt.Errorf("survey: form #%d: %w", ref, store.MapErr(err))
	}
	f, err := ParseXLSForm(src)
	if err != nil {
		return nil, fmt.Errorf("survey: stored form #%d no longer parses: %w", ref, err)
	}
	s.mu.Lock()
	s.forms[ref] = f
	s.mu.Unlock()
	return f, nil
}
