package tests

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/tests/conformance"
)

// Every example is built, and run against the servers the suite started.
var _ = Describe("examples", Ordered, Label("examples"), func() {
	bins := map[string]string{}

	BeforeAll(func() {
		dir := GinkgoT().TempDir()
		for _, name := range []string{"quickstart", "httpservice", "sentinel", "cluster", "hostapp"} {
			bin := filepath.Join(dir, name)
			out, err := exec.Command("go", "build", "-o", bin, "../examples/"+name).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "go build ./examples/%s: %s", name, out)
			bins[name] = bin
		}
	})

	run := func(name string, env ...string) string {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bins[name], "jane")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s: %s", name, out)
		return string(out)
	}

	It("runs the quickstart on the in-memory backend", func() {
		out := run("quickstart")
		Expect(out).To(ContainSubstring("generator ran 1 time(s) for 3 reads"))
		Expect(out).To(ContainSubstring(`keys of site "site*": [settings]`))
		Expect(out).To(ContainSubstring("suggestion: Zürich"))
	})

	It("runs the host app against Redis, remembering the visit", func() {
		env := []string{"REDIS_CACHE=" + standaloneServer.URL(), "REDISCACHE_SITE=" + conformanceSite()}
		Expect(run("hostapp", env...)).To(ContainSubstring("welcome, jane"))
		Expect(run("hostapp", env...)).To(ContainSubstring("welcome back, jane"))
	})

	It("runs the sentinel example through the sentinels", func() {
		out := run("sentinel",
			"REDIS_CACHE_SENTINEL_ENABLED=1",
			"REDIS_CACHE_SENTINELS="+strings.Join(sentinelTopology.SentinelAddrs(), ","),
			"REDIS_CACHE_MASTER_SERVICE="+sentinelTopology.MasterName(),
			"REDISCACHE_SITE="+conformanceSite())
		Expect(out).To(ContainSubstring("hello from sentinel"))
		Expect(out).To(ContainSubstring("hits=2 misses=0 healthy=true"))
	})

	It("runs the cluster example on the cluster's nodes", func() {
		out := run("cluster",
			"REDIS_CACHE_CLUSTER_NODES="+strings.Join(clusterNodes.Addrs()[:3], ","),
			"REDISCACHE_SITE="+conformanceSite())
		Expect(out).To(ContainSubstring("hello from cluster"))
		Expect(out).To(ContainSubstring("listed 100 keys, deleted 100"))
		Expect(out).To(ContainSubstring("suggestion: Zurich"))
		Expect(out).To(ContainSubstring("client cache: changed by another client"))
		Expect(out).To(ContainSubstring("client cache: hits>=1 true, invalidations>=1 true, healthy=true"))
	})

	It("runs two HTTP services where one's write invalidates the other's local copy", func() {
		site := conformanceSite()
		start := func() (base string) {
			GinkgoHelper()
			ctx, cancel := context.WithCancel(context.Background())
			cmd := exec.CommandContext(ctx, bins["httpservice"])
			cmd.Env = append(os.Environ(), "REDIS_CACHE="+standaloneServer.URL(), "REDISCACHE_SITE="+site, "ADDR=127.0.0.1:0")
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			stdout, err := cmd.StdoutPipe()
			Expect(err).NotTo(HaveOccurred())
			cmd.Stderr = GinkgoWriter
			Expect(cmd.Start()).To(Succeed())
			DeferCleanup(func() { cancel(); _ = cmd.Wait() })
			lines := bufio.NewScanner(stdout)
			for lines.Scan() {
				if addr, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
					go func() { _, _ = io.Copy(io.Discard, stdout) }()
					return "http://" + addr
				}
			}
			Fail("httpservice exited before listening")
			return ""
		}
		a, b := start(), start()
		put := func(base, v string) {
			GinkgoHelper()
			req, _ := http.NewRequest(http.MethodPut, base+"/settings/theme", strings.NewReader(v))
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusNoContent))
		}
		get := func(base string) string {
			resp, err := http.Get(base + "/settings/theme")
			if err != nil {
				return err.Error()
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return string(body)
		}
		put(a, `"dark"`)
		Expect(get(b)).To(Equal(`"dark"`))
		Expect(get(b)).To(Equal(`"dark"`)) // now from b's memory
		put(a, `"light"`)
		Eventually(func() string { return get(b) }).WithTimeout(5 * time.Second).
			WithPolling(time.Millisecond).Should(Equal(`"light"`))
		resp, err := http.Get(b + "/stats")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		stats, _ := io.ReadAll(resp.Body)
		Expect(string(stats)).To(ContainSubstring(`"Healthy":true`))

		// /metrics, scraped over HTTP: the site's hits grow with the
		// requests served from memory.
		hits := func() float64 {
			GinkgoHelper()
			resp, err := http.Get(b + "/metrics")
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			for line := range strings.Lines(string(body)) {
				if strings.HasPrefix(line, "rediscache_clientcache_hits_total{") &&
					strings.Contains(line, `site="`+site+`"`) {
					fields := strings.Fields(line)
					v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
					Expect(err).NotTo(HaveOccurred(), line)
					return v
				}
			}
			Fail("no rediscache_clientcache_hits_total for the site in /metrics:\n" + string(body))
			return 0
		}
		before := hits()
		Expect(before).To(BeNumerically(">=", 1))
		for range 3 {
			Expect(get(b)).To(Equal(`"light"`))
		}
		Expect(hits()).To(BeNumerically(">=", before+3))

		// The backend calls are timed there too, by command.
		resp, err = http.Get(b + "/metrics")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		Expect(string(body)).To(MatchRegexp(`(?m)^db_client_operation_duration_seconds_count\{[^}]*db_operation_name="[A-Z]`))
	})
})

// conformanceSite is a site name unique to this run.
func conformanceSite() string {
	return strings.ReplaceAll(strings.TrimSuffix(conformancePrefix(), "-"), "|", "")
}

func conformancePrefix() string { return conformance.Prefix() }
