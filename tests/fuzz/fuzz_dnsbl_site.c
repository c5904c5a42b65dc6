/*
 * fuzz_dnsbl_site - libFuzzer target for screen_dnsbl_sites: any input
 * is parsed as a site list; what parses is run through filter matching
 * and scoring against a fixed answer, which must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbl/rbl_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t addrs[] = {
		0x7f000002, 0x7f00000a, 0x7fffffff, 0x7f0000ff, 0xc0000201, 0x7f000a02,
	};
	struct rbl_sites s;
	struct rbl_answer a;
	struct rbl_score sc;
	char why[256], *text;
	int z;

	if (size > 4096)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (rbl_sites_parse(&s, text, why, sizeof(why)) == 0) {
		memset(&a, 0, sizeof(a));
		a.status = RBL_LISTED;
		a.ttl = 300;
		memcpy(a.addr, addrs, sizeof(addrs));
		a.naddr = sizeof(addrs) / sizeof(addrs[0]);
		rbl_score_init(&sc);
		for (z = 0; z < s.nzones; z++)
			rbl_score_add(&s, z, &a, &sc);
		(void)rbl_score_ttl(&sc, 60, 3600);
		rbl_sites_free(&s);
	}
	free(text);
	return 0;
}
