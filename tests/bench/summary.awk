# summary.awk: medians of `go test -bench` output, with ratios against a
# baseline sub-benchmark.
#
#   awk -v baseline=baseline-rwmutex-map -f summary.awk hit.txt
#   awk -f summary.awk staleness.txt
#
# Results are grouped by benchmark name and GOMAXPROCS (the -N suffix of the
# name; none means 1). For each group it prints the number of runs (-count)
# and the median of each metric over them. With baseline set, it prints the
# minimum ns/op too (the least disturbed run on a busy machine) and the
# ratios over the figures of the baseline with the same GOMAXPROCS in the
# same top-level benchmark (Hit and ClusterHit each have their own).

function minimum(list,    n, a, i, m) {
	n = split(list, a, " ")
	m = a[1] + 0
	for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0
	return m
}

function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {          # insertion sort, n is small
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

# top is the top-level benchmark of a sub-benchmark's name ("Hit",
# "ClusterHit"): each has its own baseline.
function top(name) {
	sub(/\/.*/, "", name)
	return name
}

function ratio(a, b) {
	if (b <= 0) return "-"
	return sprintf("%.2f", a / b)
}

/^Benchmark/ {
	name = $1
	procs = 1
	if (match(name, /-[0-9]+$/)) {
		procs = substr(name, RSTART + 1) + 0
		name = substr(name, 1, RSTART - 1)
	}
	sub(/^Benchmark/, "", name)
	key = name SUBSEP procs
	if (!(key in runs)) {
		order[++nkeys] = key
		nameOf[key] = name
		procsOf[key] = procs
	}
	runs[key]++
	for (i = 3; i + 1 <= NF; i += 2) {
		unit = $(i + 1)
		if (!((key, unit) in vals)) units[key] = units[key] " " unit
		vals[key, unit] = vals[key, unit] " " $i
	}
}

END {
	for (k = 1; k <= nkeys; k++) {
		key = order[k]
		n = split(units[key], u, " ")
		for (i = 1; i <= n; i++) {
			med[key, u[i]] = median(vals[key, u[i]])
			lo[key, u[i]] = minimum(vals[key, u[i]])
		}
		if (baseline != "" && nameOf[key] ~ ("/" baseline "$")) base[top(nameOf[key]), procsOf[key]] = key
	}
	if (baseline != "") {
		printf "%-34s %5s %4s %9s %9s %9s %6s %6s %8s %8s %8s\n", "benchmark", "procs", "runs", "ns/op", "min ns/op", "cpu-ns/op", "B/op", "allocs", "x ns/op", "x min", "x cpu"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]
			b = base[top(nameOf[key]), procsOf[key]]
			r1 = r2 = r3 = "-"
			if (b != "") {
				r1 = ratio(med[key, "ns/op"], med[b, "ns/op"])
				r2 = ratio(lo[key, "ns/op"], lo[b, "ns/op"])
				r3 = ratio(med[key, "cpu-ns/op"], med[b, "cpu-ns/op"])
			}
			printf "%-34s %5d %4d %9.1f %9.1f %9.1f %6g %6g %8s %8s %8s\n", nameOf[key], procsOf[key], runs[key], med[key, "ns/op"], lo[key, "ns/op"], med[key, "cpu-ns/op"], med[key, "B/op"], med[key, "allocs/op"], r1, r2, r3
		}
		print "(medians over the runs, except min ns/op; x = ratio over " baseline " of the same benchmark at the same GOMAXPROCS)"
	} else {
		printf "%-34s %4s %8s %8s %8s %8s | %8s %8s %9s %9s | %8s %8s\n", "benchmark (median of runs)", "runs", "p50 µs", "p90 µs", "p99 µs", "max µs", "inv p50", "inv p99", "fetch p50", "fetch p99", "reads/op", "timeouts"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]
			printf "%-34s %4d %8.1f %8.1f %8.1f %8.1f | %8.1f %8.1f %9.1f %9.1f | %8.1f %8g\n", nameOf[key], runs[key], med[key, "p50-ns"] / 1000, med[key, "p90-ns"] / 1000, med[key, "p99-ns"] / 1000, med[key, "max-ns"] / 1000, med[key, "inv-p50-ns"] / 1000, med[key, "inv-p99-ns"] / 1000, med[key, "fetch-p50-ns"] / 1000, med[key, "fetch-p99-ns"] / 1000, med[key, "reads/op"], med[key, "timeouts"] + 0
		}
		print "(µs; inv = until the read that returned the new value started, fetch = that read)"
	}
}
