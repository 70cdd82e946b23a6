package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/siamese-pipeline/siamese/runner"
)

// signalCause is why a run's context was cancelled: a signal from
// outside. Its text names the signal as a shell user knows it.
type signalCause struct{ sig syscall.Signal }

func (c signalCause) Error() string {
	switch c.sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return c.sig.String()
}

// notifySignals returns a context cancelled, with a signalCause, by the
// first SIGINT or SIGTERM. The first signal restores the default action,
// so a second one kills the process at once.
func notifySignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			s, _ := sig.(syscall.Signal)
			cancel(signalCause{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(context.Canceled)
	}
}

// interruptedExit is the exit code of a run a signal stopped: 128 plus
// the signal's number, as shells report it (130 for SIGINT, 143 for
// SIGTERM).
func interruptedExit(err error) (int, bool) {
	var ie *runner.InterruptedError
	var sc signalCause
	if errors.As(err, &ie) && errors.As(ie.Cause, &sc) {
		return 128 + int(sc.sig), true
	}
	return 0, false
}
