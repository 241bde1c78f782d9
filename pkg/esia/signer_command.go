package esia

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Placeholders a CommandSigner replaces in its arguments, also inside a
// longer argument ("-in={in}").
const (
	// PlaceholderIn is the path of a file holding the message; without it
	// the message is written to the program's standard input.
	PlaceholderIn = "{in}"
	// PlaceholderOut is the path of a file the program writes the signature
	// to; without it the signature is read from standard output.
	PlaceholderOut = "{out}"
)

// maxSignerOutput bounds what is read of a signer's output and errors.
const maxSignerOutput = 64 << 10

// CommandSigner signs client_secret with an external program, such as
// CryptoPro's csptest or `openssl dgst -engine gost -md_gost12_256 -sign
// KEY.pem`: certified cryptography stays in the program the operator is
// allowed to use. The program is run directly, never through a shell, once
// per signature, with the broker's environment minus every BROKER_*
// variable (the broker's own secrets).
//
// It is safe for concurrent use; at most SignerOptions.MaxConcurrent
// programs run at once.
type CommandSigner struct {
	path string   // argv[0] resolved with exec.LookPath
	argv []string // the template, argv[0] as configured
	opts SignerOptions
	sem  chan struct{}
}

var _ Signer = (*CommandSigner)(nil)

// NewCommandSigner checks argv (the program must be found now, not at the
// first login) and opts.
func NewCommandSigner(argv []string, opts SignerOptions) (*CommandSigner, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("esia: signer command: no program given")
	}
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("esia: signer command: %w", err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("esia: signer command: %w", err)
	}
	return &CommandSigner{path: path, argv: append([]string(nil), argv...), opts: opts, sem: opts.slots()}, nil
}

// String names the program, without its arguments (they may hold a PIN).
func (s *CommandSigner) String() string { return "command " + filepath.Base(s.argv[0]) }

// Sign runs the program. A non-zero exit, a signal or the time-out is an
// error naming the program, its exit status and a cleaned-up excerpt of its
// standard error, never the message (it carries the authorization code).
func (s *CommandSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	name := filepath.Base(s.argv[0])
	fail := func(format string, a ...any) error {
		return fmt.Errorf("esia: signer command %s: "+format, append([]any{name}, a...)...)
	}
	release, err := acquire(ctx, s.sem, s.opts.timeout())
	if err != nil {
		return nil, fail("%w", err)
	}
	defer release()

	args := s.argv[1:]
	var inPath, outPath string
	if s.uses(PlaceholderIn) || s.uses(PlaceholderOut) {
		dir, err := os.MkdirTemp("", "esia-sign-")
		if err != nil {
			return nil, fail("%w", err)
		}
		defer os.RemoveAll(dir)
		inPath, outPath = filepath.Join(dir, "message"), filepath.Join(dir, "signature")
		if s.uses(PlaceholderIn) {
			if err := os.WriteFile(inPath, message, 0o600); err != nil {
				return nil, fail("%w", err)
			}
		}
		r := strings.NewReplacer(PlaceholderIn, inPath, PlaceholderOut, outPath)
		args = make([]string, len(s.argv)-1)
		for i, a := range s.argv[1:] {
			args[i] = r.Replace(a)
		}
	}

	timeout := s.opts.timeout()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, s.path, args...)
	cmd.Env = signerEnv()
	if !s.uses(PlaceholderIn) {
		cmd.Stdin = bytes.NewReader(message)
	}
	stdout, stderr := &cappedBuffer{}, &cappedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A program that leaves a child holding stdout open must not keep Sign
	// waiting past the time-out.
	cmd.WaitDelay = time.Second
	killProcessGroup(cmd)

	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fail("%w", ctx.Err())
	case rctx.Err() != nil:
		return nil, fail("no signature within %s: %w", timeout, context.DeadlineExceeded)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = errors.New(ee.ProcessState.String()) // "exit status 1", "signal: killed"
		}
		diag := stderr.Bytes()
		if len(bytes.TrimSpace(diag)) == 0 && s.uses(PlaceholderOut) {
			diag = stdout.Bytes() // csptest reports on stdout; the signature is in {out}
		}
		if d := diagnostic(diag, message); d != "" {
			return nil, fail("%v: %s", err, d)
		}
		return nil, fail("%v", err)
	}

	out := stdout.Bytes()
	if s.uses(PlaceholderOut) {
		if out, err = readCapped(outPath); err != nil {
			return nil, fail("signature file: %w", err)
		}
	}
	sig, err := s.opts.finish(out)
	if err != nil {
		return nil, fail("%w", err)
	}
	return sig, nil
}

func (s *CommandSigner) uses(placeholder string) bool {
	for _, a := range s.argv[1:] {
		if strings.Contains(a, placeholder) {
			return true
		}
	}
	return false
}

// signerEnv is the broker's environment without its own settings, some of
// which are secrets (BROKER_KEK, BROKER_ESIA_SIGNER_TOKEN).
func signerEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BROKER_") {
			out = append(out, kv)
		}
	}
	return out
}

// cappedBuffer keeps the first maxSignerOutput bytes written to it and
// discards the rest, so that a runaway program cannot fill the memory.
// It must not embed bytes.Buffer: io.Copy would use its ReadFrom and
// bypass the cap.
type cappedBuffer struct{ buf bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := maxSignerOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) Bytes() []byte { return b.buf.Bytes() }

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSignerOutput))
}
