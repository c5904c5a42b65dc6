/*
 * fuzz_dns_answer - libFuzzer target for DNS answer -> score: any bytes
 * are checked against a fixed question (A or TXT, chosen by the input,
 * with the ID taken from the packet so parsing goes past the ID check),
 * and what is accepted is scored against a site list with filters,
 * weights and an allowlist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "rbl/rbl_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rbl_sites sites;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *qname = "2.0.0.127.zen.test";
	struct rbl_answer a;
	struct rbl_score sc;
	const char *why;
	char err[256];
	int qtype;

	if (sites.nzones == 0 &&
	    rbl_sites_parse(&sites, "zen.test=127.0.0.[2..11]*3 zen.test=127.255.255.254*-1 "
	    "zen.test*1 zen.test=127.0.[0..255].[1..3]*-2", err, sizeof(err)) < 0)
		abort();
	if (size < 12 || size > 65535)
		return 0;
	qtype = (data[3] & 1) ? LDNS_RR_TYPE_TXT : LDNS_RR_TYPE_A;
	if (rbl_dns_parse(data, size, (data[0] << 8) | data[1], qname, qtype, &a, &why) == 0) {
		if (a.naddr > RBL_MAX_ADDRS || strlen(a.txt) > RBL_TXT_MAX)
			abort();
		rbl_score_init(&sc);
		rbl_score_add(&sites, 0, &a, &sc);
		(void)rbl_score_ttl(&sc, 60, 3600);
	}
	return 0;
}
