package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lessonPrograms take arguments and standard input; main_test.go runs them against each other.
var lessonPrograms = map[string]bool{"refused": true, "udpconnectserver": true, "udpconnectclient2": true}

// keyLines are lines each experiment must print, besides its closing verdict: the kernel's
// answers that the script is about.
var keyLines = map[string][]string{
	"reconnect":        {"getpeername(client) = 127.0.0.1:", `recv(B, 100, 0) = "second"`, `connect(fresh, "192.0.2.1", 9): connect failed: Invalid argument (22)`, "getsockname(roamer) = 0.0.0.0:0"},
	"disconnect":       {"connect(client, {family=AF_UNSPEC}) = 0", "getpeername failed: Transport endpoint is not connected (107)", "send failed: Destination address required (89)"},
	"broadcast":        {"connect failed: Permission denied (13)", `recvfrom(receiver, 100) = "to everyone"`},
	"multicast":        {`recvfrom(member, 100) = "hello group"`, `recv(outsider, 100) = "hello group"`, "recv(outsider, 100): recv failed: Resource temporarily unavailable (11)", "recv(elsewhere, 100, MSG_DONTWAIT): recv failed: Resource temporarily unavailable (11)"},
	"unconnected":      {"recvfrom failed: Resource temporarily unavailable (11)", "recv failed: Connection refused (111)", "recvfrom(unconnected_recverr, 4096): recvfrom failed: Connection refused (111)"},
	"truncation":       {"recv(receiver, 4096) returned 4096 bytes", "recv(receiver, 4096, MSG_TRUNC) = 4096 bytes, 5000"},
	"filter":           {"recv(stranger2, 100): recv failed: Connection refused (111)", `recvfrom(server, 100) = "from the peer"`},
	"sendto_connected": {"the datagram went to the address given to sendto"},
	"pending_error":    {"recv failed: Connection refused (111)", "getsockopt(client, SOL_SOCKET, SO_ERROR) = 111"},
	"goodbye":          {"recv(client, 100): recv failed: Resource temporarily unavailable (11)", "recv failed: Connection refused (111)"},
	"reliable":         {"delivered: 200 of 200 messages, in order and exactly once: true", "0 left in the send buffer"},
	"connected_speed":  {"median ratio (connected / unconnected): "},
	"pinned":           {"Hi, g1", "recv failed: Connection refused (111)"},
	"icmp":             {"ICMP destination unreachable (type 3), port unreachable (code 3) from 127.0.0.1"},
}

// TestExperiments runs every self-contained script in scripts/ (a new one is picked up without
// editing this test): each must exit 0 within runBound, print its key lines, and end with a
// verdict.
func TestExperiments(t *testing.T) {
	paths, err := filepath.Glob("scripts/*.lua")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".lua")
		if lessonPrograms[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := udplab(t, "", path)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			// Each takes well under 5 s on an idle machine (the README's promise); the bound
			// here is the run's own, generous enough for a loaded machine under -race. The
			// figure is reported either way.
			t.Logf("%s took %v", path, time.Since(start))
			for _, want := range keyLines[name] {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "verdict: ") {
				t.Errorf("last line %q is not a verdict", last)
			}
		})
	}
}

// Every experiment starts with a comment block stating its question and claim.
func TestExperimentsDocumented(t *testing.T) {
	paths, _ := filepath.Glob("scripts/*.lua")
	lan, _ := filepath.Glob("scripts/lan/*.lua")
	paths = append(paths, lan...)
	for _, path := range paths {
		src := readFile(t, path)
		if !strings.HasPrefix(src, "-- "+filepath.Base(path)+": ") {
			t.Errorf("%s does not start with a comment naming it and its question", path)
		}
	}
}

// TestChecksCanFail proves that every check a self-checking script makes can fail it: the script
// is run once for each of its checks with that check taken as its opposite (UDPLAB_FLIP, see
// scripts/lib/experiment.lua), and must then exit 1 and say the check was not met. A check whose
// result did not reach the verdict would let the script pass.
func TestChecksCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every script once per check")
	}
	paths, _ := filepath.Glob("scripts/*.lua")
	lan, _ := filepath.Glob("scripts/lan/*.lua")
	for _, path := range append(paths, lan...) {
		name := strings.TrimSuffix(filepath.Base(path), ".lua")
		if lessonPrograms[name] || name == "pinned" {
			continue
		}
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			r := udplabEnv(t, []string{"UDPLAB_FLIP=0"}, path)
			var n int
			if _, err := fmt.Sscanf(r.stdout[strings.LastIndex(r.stdout, "expectations: "):], "expectations: %d", &n); err != nil || n == 0 || r.code != 0 {
				t.Fatalf("no count of expectations (exit %d):\n%s", r.code, r.stdout)
			}
			// The runs mostly wait (for timeouts, for labs): they run several at a time,
			// beyond the test's own parallelism.
			failed := make([]string, n+1)
			var wg sync.WaitGroup
			for k := 1; k <= n; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					flipSlots <- struct{}{}
					defer func() { <-flipSlots }()
					failed[k] = flipRun(path, k)
				}()
			}
			wg.Wait()
			for k := 1; k <= n; k++ {
				if failed[k] != "" {
					t.Errorf("check %d of %d taken as its opposite: %s", k, n, failed[k])
				}
			}
		})
	}
}

// flipSlots bounds how many flipped runs of TestChecksCanFail run at once.
var flipSlots = make(chan struct{}, 4)

// flipRun runs the script at path with its check k taken as its opposite, and says what went
// wrong: "" when the script failed on that very check (exit 1, the check reported right after
// it was flipped).
func flipRun(path string, k int) string {
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", path)
	cmd.Env = append(os.Environ(), fmt.Sprintf("UDPLAB_FLIP=%d", k))
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return err.Error()
	}
	const flipped = "(UDPLAB_FLIP: this check is taken as its opposite)\n  NOT AS EXPECTED"
	if code != 1 || !strings.Contains(string(out), flipped) {
		return fmt.Sprintf("exit %d, the script did not fail on it:\n%s", code, out)
	}
	return ""
}

// connected_speed.lua names a winner only by a margin larger than the rounds' spread (and 2%):
// its verdict on chosen ratios, its loops' time given by a clock of the test's (os.clock
// replaced before the script runs). A round at 1.003 among others up to 1.06 is inconclusive.
func TestConnectedSpeedVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ratios string
		want   string
	}{
		{"1.30, 1.25, 1.28, 1.27, 1.29", "verdict: connected send() was faster than unconnected sendto() here, by 28%"},
		{"0.70, 0.72, 0.71, 0.69, 0.73", "verdict: connected send() was slower than unconnected sendto() here, by 29%"},
		{"1.003, 1.02, 1.05, 1.04, 1.06", "verdict: inconclusive: the rounds' spread (0.057) is not smaller than the median's distance from 1 (0.040)"},
		{"1.003, 1.10, 1.25, 1.05, 1.40", "verdict: inconclusive"},
		{"0.995, 1.003, 1.01, 0.99, 1.0", "verdict: connected send() and unconnected sendto() were about as fast here"},
		{"1.015, 1.016, 1.015, 1.017, 1.016", "verdict: connected send() and unconnected sendto() were about as fast here"},
	} {
		// each round: the connected loop takes 1 s, the unconnected one ratio s
		clock := fmt.Sprintf(`local ratios, calls, now = {%s}, 0, 0
os.clock = function()
  calls = calls + 1
  local k = (calls - 1) %% 4
  if k == 1 then now = now + 1 elseif k == 3 then now = now + ratios[(calls - k - 1) / 4 + 1] end
  return now
end`, tc.ratios)
		r := udplab(t, "", "-e", clock, "scripts/connected_speed.lua")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if last := lines[len(lines)-1]; r.code != 0 || !strings.HasPrefix(last, tc.want) {
			t.Errorf("ratios %s: exit %d, %q; want %q", tc.ratios, r.code, last, tc.want)
		}
	}
}
