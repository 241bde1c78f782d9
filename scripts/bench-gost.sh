#!/usr/bin/env bash
# bench-gost.sh — pkg/esia/gost against OpenSSL's gost engine, same machine, same run.
#
# What is measured, on both sides, is the raw operation on a 32-byte digest:
#   - ours:    go test -bench 'Sign|Verify|Streebog256/8192' (Sign/Verify take a digest;
#              BenchmarkVerify is one-shot, BenchmarkVerifyCached reuses one key and with it
#              the key's precomputed table);
#   - openssl: a small C harness (written and compiled below) that loads the gost engine
#              once, reads an openssl-generated key, and times EVP_PKEY_sign /
#              EVP_PKEY_verify on a 32-byte digest and EVP_Digest(md_gost12_256) on 8 KiB.
# Per-process timing (`openssl dgst -sign` in a loop) was rejected: one process costs
# milliseconds (engine load, PEM parse, public-key recomputation) against a 30-150 µs
# operation, so the subtraction would be noise. `openssl speed` has no GOST signature
# algorithms (it can time md_gost12_256 through the gost provider; printed for reference).
# Both sides report, per operation, the best of several repetitions of thread CPU time
# (the ratio uses it) and of wall time: the 2-core machine is shared, CPU time is hardly
# disturbed by other processes, and the best wall-time run is the least disturbed one.
#
# Needs: go, openssl + libengine-gost-openssl, cc + OpenSSL headers (libssl-dev).
# Usage: scripts/bench-gost.sh            (from anywhere inside the repository)
#        REPS=5 BENCHTIME=1s scripts/bench-gost.sh
set -euo pipefail

REPS="${REPS:-5}"
BENCHTIME="${BENCHTIME:-1s}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench-gost: $1 not found ($2)" >&2; exit 1; }; }
need go "install Go"
need openssl "apt-get install -y openssl"
need cc "apt-get install -y gcc"
openssl engine gost >/dev/null 2>&1 || { echo "bench-gost: gost engine missing (apt-get install -y libengine-gost-openssl)" >&2; exit 1; }
[ -f /usr/include/openssl/evp.h ] || { echo "bench-gost: OpenSSL headers missing (apt-get install -y libssl-dev)" >&2; exit 1; }

cat > "$WORK/bench.c" <<'C'
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clk(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double now(void) { return clk(CLOCK_MONOTONIC); }
static double cpu(void) { return clk(CLOCK_THREAD_CPUTIME_ID); }

/* best[0] wall, best[1] cpu: seconds per operation */
static void keep(double *best, double wall, double c, long n) {
	if (wall / n < best[0]) best[0] = wall / n;
	if (c / n < best[1]) best[1] = c / n;
}

static void die(const char *what) {
	fprintf(stderr, "bench: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

int main(int argc, char **argv) {
	if (argc != 3) die("usage: bench key.pem reps");
	int reps = atoi(argv[2]);
	ENGINE_load_builtin_engines();
	ENGINE *e = ENGINE_by_id("gost");
	if (!e || !ENGINE_init(e) || !ENGINE_set_default(e, ENGINE_METHOD_ALL)) die("gost engine");
	FILE *f = fopen(argv[1], "r");
	if (!f) die("open key");
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey) die("read key");

	unsigned char dgst[32], sig[64];
	for (int i = 0; i < 32; i++) dgst[i] = (unsigned char)(7 * i + 1);
	size_t siglen = sizeof sig;
	EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new(pkey, e), *vctx = EVP_PKEY_CTX_new(pkey, e);
	if (!sctx || EVP_PKEY_sign_init(sctx) != 1 || !vctx || EVP_PKEY_verify_init(vctx) != 1) die("init");

	double bsign[2] = {1e9, 1e9}, bverify[2] = {1e9, 1e9}, bhash[2] = {1e9, 1e9};
	for (int r = 0; r < reps; r++) {
		long n = 0;
		double t0 = now(), c0 = cpu(), c;
		do {
			siglen = sizeof sig;
			if (EVP_PKEY_sign(sctx, sig, &siglen, dgst, sizeof dgst) != 1) die("sign");
			n++;
		} while ((c = cpu() - c0) < 0.5);
		keep(bsign, now() - t0, c, n);

		n = 0;
		t0 = now(), c0 = cpu();
		do {
			if (EVP_PKEY_verify(vctx, sig, siglen, dgst, sizeof dgst) != 1) die("verify");
			n++;
		} while ((c = cpu() - c0) < 0.5);
		keep(bverify, now() - t0, c, n);
	}
	const EVP_MD *md = EVP_get_digestbyname("md_gost12_256");
	if (!md) die("md_gost12_256");
	static unsigned char buf[8192];
	unsigned char out[64];
	for (int r = 0; r < reps; r++) {
		long n = 0;
		double t0 = now(), c0 = cpu(), c;
		do {
			if (EVP_Digest(buf, sizeof buf, out, NULL, md, e) != 1) die("digest");
			n++;
		} while ((c = cpu() - c0) < 0.5);
		keep(bhash, now() - t0, c, n);
	}
	/* cpu µs sign, verify; wall µs sign, verify; MB/s by cpu, by wall */
	printf("%.2f %.2f %.2f %.2f %.1f %.1f\n", bsign[1] * 1e6, bverify[1] * 1e6, bsign[0] * 1e6, bverify[0] * 1e6,
	       sizeof buf / bhash[1] / 1e6, sizeof buf / bhash[0] / 1e6);
	return 0;
}
C
cc -O2 -o "$WORK/bench" "$WORK/bench.c" -lcrypto

echo "== machine"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(uname -sr)"
echo "$(go version), $(openssl version), libengine-gost-openssl $(dpkg-query -W -f='${Version}' libengine-gost-openssl 2>/dev/null || echo '?')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== openssl (C harness, gost engine, best of $REPS x 0.5 s CPU)"
declare -A OS_SIGN OS_VERIFY OS_SIGN_WALL OS_VERIFY_WALL
OS_HASH="" OS_HASH_WALL=""
for ps in TCA A B C; do
	openssl genpkey -engine gost -algorithm gost2012_256 -pkeyopt "paramset:$ps" -out "$WORK/$ps.pem" 2>/dev/null
	read -r s v sw vw h hw < <("$WORK/bench" "$WORK/$ps.pem" "$REPS")
	OS_SIGN[$ps]=$s OS_VERIFY[$ps]=$v OS_SIGN_WALL[$ps]=$sw OS_VERIFY_WALL[$ps]=$vw OS_HASH=$h OS_HASH_WALL=$hw
	echo "paramset $ps: sign $s µs CPU ($sw wall), verify $v µs CPU ($vw wall)"
done
echo "md_gost12_256 (8 KiB blocks): $OS_HASH MB/s CPU ($OS_HASH_WALL wall)"
if out=$(openssl speed -provider gostprov -provider default -seconds 1 -bytes 8192 -evp md_gost12_256 2>/dev/null | tail -1); then
	echo "openssl speed (gost provider): $out"
fi

echo "== ours (go test -bench, best of $REPS x $BENCHTIME)"
cd "$ROOT"
go test ./pkg/esia/gost/ -run '^$' -bench 'BenchmarkSign|BenchmarkVerify|BenchmarkStreebog256/8192' \
	-benchmem -count "$REPS" -benchtime "$BENCHTIME" | tee "$WORK/go.txt" | grep -E '^Benchmark' || true
best() { # best value of unit $2 (ns/op, cpu-ns/op) for benchmark $1
	awk -v n="$1" -v u="$2" '$1 ~ "^"n"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u && (m == "" || $(i-1) + 0 < m + 0)) m = $(i-1) } END { print m }' "$WORK/go.txt"
}
allocs() { awk -v n="$1" '$1 ~ "^"n"(-[0-9]+)?$" { a = $(NF-1) } END { print a }' "$WORK/go.txt"; }
mbps() { awk -v ns="$1" 'BEGIN { printf "%.1f", 8192 / ns * 1000 }'; }
GO_HASH=$(mbps "$(best BenchmarkStreebog256/8192 cpu-ns/op)")
GO_HASH_WALL=$(mbps "$(best BenchmarkStreebog256/8192 ns/op)")

echo
echo "== result: µs per operation, thread CPU time (wall time in brackets); ratio = ours / openssl on CPU time, below 1 = ours faster"
printf '| %-12s | %-12s | %-17s | %-17s | %5s | %9s |\n' curve op ours openssl ratio allocs/op
printf '|--------------|--------------|-------------------|-------------------|-------|-----------|\n'
us() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
for ps in TCA A B C; do
	case $ps in TCA) name=TCA ;; *) name=CryptoPro-$ps ;; esac
	for op in Sign Verify VerifyCached; do
		ours=$(us "$(best "Benchmark$op/$name" cpu-ns/op)")
		ours_wall=$(us "$(best "Benchmark$op/$name" ns/op)")
		if [ $op = Sign ]; then theirs=${OS_SIGN[$ps]} theirs_wall=${OS_SIGN_WALL[$ps]}; else theirs=${OS_VERIFY[$ps]} theirs_wall=${OS_VERIFY_WALL[$ps]}; fi
		ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
		printf '| %-12s | %-12s | %-17s | %-17s | %5s | %9s |\n' "$name" "$op" "$ours ($ours_wall)" "$theirs ($theirs_wall)" "$ratio" "$(allocs "Benchmark$op/$name")"
	done
done
ratio=$(awk -v a="$OS_HASH" -v b="$GO_HASH" 'BEGIN { printf "%.2f", a / b }')
printf '| %-12s | %-12s | %-17s | %-17s | %5s | %9s |\n' "Streebog-256" "MB/s" "$GO_HASH ($GO_HASH_WALL)" "$OS_HASH ($OS_HASH_WALL)" "$ratio" "0"
echo "(VerifyCached: repeated verification with one key, which then uses its precomputed table; compared"
echo " with the same openssl figure, which has no such cache. Streebog row: MB/s on 8 KiB inputs,"
echo " ratio = openssl / ours, so below 1 is again ours faster.)"
