package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
)

// engineEnv names the engine this test process runs the suite on. TestMain
// runs every test of the package on the default engine, then runs the test
// binary again with engineEnv=bbolt, so one `go test` covers both engines
// on a 64-bit machine. The children of TestKilledProcessKeepsUpdate
// inherit it and so use the same engine as their parent.
const engineEnv = "EDGEWARD_STORE_ENGINE"

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || os.Getenv(engineEnv) != "" || suiteEngine() == "bbolt" {
		os.Exit(code)
	}
	fmt.Println("=== the same suite on bbolt")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), engineEnv+"=bbolt")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "suite on bbolt: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// suiteEngine is the engine under test: "badger" or "bbolt".
func suiteEngine() string {
	if e := os.Getenv(engineEnv); e != "" {
		return e
	}
	return defaultEngine
}

// testOpen is Open on the engine under test.
func testOpen(ctx context.Context, opts Options, migrations []Migration) (*DB, error) {
	return open(ctx, opts, migrations, testEngine())
}

func testEngine() openEngine {
	if suiteEngine() == "bbolt" {
		return openBolt
	}
	return openDefault
}

func testRestoreEngine() restoreEngine {
	if suiteEngine() == "bbolt" {
		return restoreBolt
	}
	return restoreDefault
}

// rawEngine opens the engine under test without migrations.
func rawEngine(t testing.TB, opts Options) engine {
	t.Helper()
	eng, err := testEngine()(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open %s: %v", opts.Dir, err)
	}
	return eng
}

// onlyOn skips t unless the suite runs on engine, saying why.
func onlyOn(t testing.TB, engine, why string) {
	t.Helper()
	if suiteEngine() != engine {
		t.Skipf("%s only: %s", engine, why)
	}
}
