//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"time"

	"github.com/ebfe/scard"
)

// cancelOnDone makes ctx's end interrupt GetStatusChange calls on sc.
// SCardCancel only interrupts a call already waiting, so a cancellation
// landing just before the call would be lost: it keeps cancelling until
// the returned release func is called (before sc is released).
func cancelOnDone(ctx context.Context, sc *scard.Context) (release func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(exited)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			sc.Cancel()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() {
		if !stop() {
			close(done)
			<-exited
		}
	}
}

// WaitForCard blocks until a card is in reader (returning its ATR) or ctx
// ends. A card already there returns at once.
func WaitForCard(ctx context.Context, reader string) ([]byte, error) {
	var atr []byte
	err := waitState(ctx, reader, func(s scard.ReaderState) bool {
		if s.EventState&scard.StatePresent != 0 && s.EventState&scard.StateMute == 0 {
			atr = append([]byte(nil), s.Atr...)
			return true
		}
		return false
	})
	return atr, err
}

// WaitForRemoval blocks until reader is empty or ctx ends.
func WaitForRemoval(ctx context.Context, reader string) error {
	return waitState(ctx, reader, func(s scard.ReaderState) bool {
		return s.EventState&scard.StateEmpty != 0
	})
}

func waitState(ctx context.Context, reader string, done func(scard.ReaderState) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sc, err := establish()
	if err != nil {
		return err
	}
	defer sc.Release()
	release := cancelOnDone(ctx, sc)
	defer release()
	states := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	for {
		err := sc.GetStatusChange(states, -1)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrCancelled) && ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, scard.ErrCancelled), errors.Is(err, scard.ErrTimeout):
			continue
		default:
			return wrap("wait for", reader, err)
		}
		s := states[0]
		if s.EventState&(scard.StateUnknown|scard.StateUnavailable) != 0 {
			return wrap("wait for", reader, scard.ErrUnknownReader)
		}
		if done(s) {
			return nil
		}
		states[0].CurrentState = s.EventState &^ scard.StateChanged
	}
}
