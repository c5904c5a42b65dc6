/*
 * test_expand - $name expansion, table-driven: every ${stress?...} form
 * with stress empty and stress=yes, $$, nesting, undefined names, the
 * depth limit, unbalanced braces, relational conditionals, and
 * conf_expand_with() as the rbl module uses it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

struct xcase {
	const char *text;
	const char *want;	/* NULL: an error whose reason has err */
	const char *err;
};

static void
run(struct conf *c, const struct xcase *cases, size_t n, const char *label)
{
	struct conf_err err;
	size_t i;
	char *got;

	for (i = 0; i < n; i++) {
		got = conf_expand(c, cases[i].text, &err);
		if (cases[i].want != NULL) {
			cr_expect(got != NULL && strcmp(got, cases[i].want) == 0,
			    "%s \"%s\": got %s, want %s", label, cases[i].text,
			    got ? got : err.reason, cases[i].want);
		} else {
			cr_expect(got == NULL, "%s \"%s\": got %s, want error %s",
			    label, cases[i].text, got ? got : "", cases[i].err);
			if (got == NULL)
				cr_expect(strstr(err.reason, cases[i].err) != NULL,
				    "%s \"%s\": got %s, want %s", label,
				    cases[i].text, err.reason, cases[i].err);
		}
		free(got);
	}
}

static struct conf *
setup_conf(void)
{
	struct conf *c = conf_create();
	struct conf_err err;
	static const char *defs[] = {
		"a=A", "b=$a", "c=${b}x", "d=$(a)", "e=", "f=$e",
		"sp={ spaced }", "n1=$n2", "n2=$n3", "n3=deep",
		"loop1=$loop2", "loop2=$loop1", "self=x$self",
		"num=10", "num2=9",
	};
	size_t i;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		cr_assert_eq(conf_override(c, defs[i], &err), 0, "%s", defs[i]);
	return c;
}

Test(expand, stress_forms)
{
	static const struct xcase normal[] = {
		{ "${stress?{2}:{6}}s", "6s", NULL },
		{ "${stress?{yes}:{no}}", "no", NULL },
		{ "${stress?10}", "", NULL },
		{ "${stress?{10}}", "", NULL },
		{ "${stress:300}", "300", NULL },
		{ "${stress:{300}}", "300", NULL },
		{ "${stress?{10}:300}", "300", NULL },
		{ "${stress ? {10} : {300}}", NULL, "unexpected" },
		{ "${stress?  {10}  :  {300}  }", "300", NULL },
		{ "$stress", "", NULL },
		{ "${stress}", "", NULL },
		{ "x${stress?{a}:{b}}y${stress?{c}:{d}}z", "xbydz", NULL },
	};
	static const struct xcase stressed[] = {
		{ "${stress?{2}:{6}}s", "2s", NULL },
		{ "${stress?{yes}:{no}}", "yes", NULL },
		{ "${stress?10}", "10", NULL },
		{ "${stress?{10}}", "10", NULL },
		{ "${stress:300}", "", NULL },
		{ "${stress:{300}}", "", NULL },
		{ "${stress?{10}:300}", "10", NULL },
		{ "${stress?  {10}  :  {300}  }", "10", NULL },
		{ "$stress", "yes", NULL },
		{ "${stress}", "yes", NULL },
		{ "x${stress?{a}:{b}}y${stress?{c}:{d}}z", "xaycz", NULL },
	};
	struct conf *c = conf_create();

	run(c, normal, sizeof(normal) / sizeof(normal[0]), "stress=");
	conf_set(c, "stress", "yes");
	run(c, stressed, sizeof(stressed) / sizeof(stressed[0]), "stress=yes");
	conf_free(c);
}

Test(expand, forms)
{
	static const struct xcase cases[] = {
		{ "", "", NULL },
		{ "plain text", "plain text", NULL },
		{ "$a", "A", NULL },
		{ "${a}", "A", NULL },
		{ "$(a)", "A", NULL },
		{ "$a$a", "AA", NULL },
		{ "$a.b", "A.b", NULL },
		{ "$b", "A", NULL },			/* recursive */
		{ "$c", "Ax", NULL },
		{ "$d", "A", NULL },
		{ "$n1", "deep", NULL },
		{ "$$", "$", NULL },
		{ "$$a", "$a", NULL },
		{ "$$$a", "$A", NULL },
		{ "cost $", "cost $", NULL },
		{ "$ x", "$ x", NULL },
		{ "$undefined", "", NULL },
		{ "[${undefined}]", "[]", NULL },
		{ "${undefined?x}", "", NULL },
		{ "${undefined:x}", "x", NULL },
		{ "${a?x}", "x", NULL },
		{ "${a?$b}", "A", NULL },		/* chosen value expanded */
		{ "${a?{$c}:{$a}}", "Ax", NULL },
		{ "${e?{x}:{y}}", "y", NULL },
		{ "${e:{y}}", "y", NULL },
		/* A conditional tests the raw text: $f is "$e", non-empty. */
		{ "${f?{set}:{unset}}", "set", NULL },
		{ "${a?; $a}", "; A", NULL },		/* text kept as is */
		{ "${a?{ x }}", " x ", NULL },
		{ "${a?{x}:b c}", "x", NULL },
		{ "${e?{x}:b c}", "b c", NULL },
		{ "${a?{${e?{in}:{out}}}:{no}}", "out", NULL },
		{ "${a?{{x}}}", "{x}", NULL },
		{ "$sp", "{ spaced }", NULL },
		/* Postfix >= 3.0 relational forms. */
		{ "${{$a} == {A} ? {eq} : {ne}}", "eq", NULL },
		{ "${{$a} != {A} ? {eq} : {ne}}", "ne", NULL },
		{ "${{$num} > {$num2} ? {gt} : {le}}", "gt", NULL },
		{ "${{10} < {9} ? {lt}:{ge}}", "ge", NULL },
		{ "${{b} < {a} ? {lt}:{ge}}", "ge", NULL },
		{ "${{010} == {10} ? {same}}", "same", NULL },
		{ "${{a} <= {a} ? {y}}", "y", NULL },
		/* Errors. */
		{ "$loop1", NULL, "recursion too deep" },
		{ "$self", NULL, "recursion too deep" },
		{ "${a", NULL, "unbalanced '{'" },
		{ "$(a", NULL, "unbalanced '('" },
		{ "${a?{x}", NULL, "unbalanced" },
		{ "${a?{x}:{y}", NULL, "unbalanced" },
		{ "${}", NULL, "missing parameter name" },
		{ "${-a}", NULL, "missing parameter name" },
		{ "${a-b}", NULL, "unexpected '-'" },
		{ "${a?{x} junk}", NULL, "unexpected text" },
		{ "${a:{x}:{y}}", NULL, "unexpected text" },
		{ "${{a} = {b} ? {x}}", NULL, "missing operator" },
		{ "${{a} == {b}}", NULL, "missing '?'" },
	};
	struct conf *c = setup_conf();

	run(c, cases, sizeof(cases) / sizeof(cases[0]), "");
	conf_free(c);
}

Test(expand, depth_limit_boundary)
{
	struct conf *c = conf_create();
	char def[64];
	char *got;
	struct conf_err err;
	int i;

	/* p0 = end, p{i} = $p{i-1}: 99 levels work, 150 do not. */
	conf_set(c, "p0", "end");
	for (i = 1; i <= 150; i++) {
		snprintf(def, sizeof(def), "$p%d", i - 1);
		snprintf(def + 32, 32, "p%d", i);
		conf_set(c, def + 32, def);
	}
	got = conf_expand(c, "$p99", &err);
	cr_expect(got != NULL && strcmp(got, "end") == 0, "got %s, want end",
	    got ? got : err.reason);
	free(got);
	got = conf_expand(c, "$p150", &err);
	cr_expect_null(got, "got %s, want recursion too deep", got);
	cr_expect(strstr(err.reason, "recursion too deep") != NULL, "got %s",
	    err.reason);
	cr_expect(strstr(err.reason, "parameter p") != NULL,
	    "got %s, want the parameter named", err.reason);
	free(got);
	conf_free(c);
}

Test(expand, blowup_is_bounded)
{
	struct conf *c = conf_create();
	char name[16], def[64];
	char *got;
	struct conf_err err;
	int i;

	/* q{i} = $q{i-1}$q{i-1}: 2^40 lookups unless bounded. */
	conf_set(c, "q0", "");
	for (i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		snprintf(def, sizeof(def), "$q%d$q%d", i - 1, i - 1);
		conf_set(c, name, def);
	}
	got = conf_expand(c, "$q40", &err);
	cr_expect_null(got);
	cr_expect(strstr(err.reason, "too complex") != NULL, "got %s",
	    err.reason);
	free(got);
	conf_set(c, "q0", "xxxxxxxxxxxxxxxx");
	got = conf_expand(c, "$q40", &err);
	cr_expect_null(got);
	cr_expect(strstr(err.reason, "longer than") != NULL ||
	    strstr(err.reason, "too complex") != NULL, "got %s", err.reason);
	free(got);
	conf_free(c);
}

struct rbl_vars {
	const char *names[8], *values[8];
};

static const char *
rbl_lookup(void *ctx, const char *name)
{
	struct rbl_vars *v = ctx;
	size_t i;

	for (i = 0; v->names[i] != NULL; i++)
		if (strcmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

Test(expand, with_callback)
{
	struct rbl_vars v = {
		{ "rbl_code", "rbl_class", "rbl_what", "rbl_domain",
		    "rbl_reason", "client_address", NULL },
		{ "554", "Client host", "192.0.2.1", "zen.example",
		    "listed $client_address ${x", "192.0.2.1", NULL },
	};
	struct rbl_vars v2 = {
		{ "rbl_code", "rbl_reason", NULL }, { "521", "", NULL },
	};
	struct conf *c = conf_create();
	const char *tmpl = conf_str(c, "default_rbl_reply");
	struct conf_err err;
	char *got;

	got = conf_expand_with(tmpl, rbl_lookup, &v, &err);
	/* Values are inserted as they are: TXT text is never expanded. */
	cr_expect(got != NULL && strcmp(got,
	    "554 Service unavailable; Client host [192.0.2.1] blocked using zen.example; listed $client_address ${x") == 0,
	    "got %s, want the default reply", got ? got : err.reason);
	free(got);
	got = conf_expand_with(tmpl, rbl_lookup, &v2, &err);
	cr_expect(got != NULL && strcmp(got,
	    "521 Service unavailable;  [] blocked using ") == 0,
	    "got %s, want the reply without reason", got ? got : err.reason);
	free(got);
	got = conf_expand_with("$rbl_code ${rbl_reason", rbl_lookup, &v, &err);
	cr_expect_null(got);
	cr_expect(strstr(err.reason, "unbalanced") != NULL, "got %s",
	    err.reason);
	free(got);
	conf_free(c);
}

/* Random strings over the syntax's alphabet: errors, never crashes. */
Test(expand, garbage_never_crashes)
{
	static const char alpha[] = "${}()?:=<>!a b$${{}}";
	struct conf *c = conf_create();
	struct conf_err err;
	unsigned int seed = 12345;
	char text[40], *got;
	int i, k, n;

	conf_set(c, "a", "${b?{x}:{$a}}");
	conf_set(c, "b", "");
	for (i = 0; i < 20000; i++) {
		n = (int)(rand_r(&seed) % (sizeof(text) - 1));
		for (k = 0; k < n; k++)
			text[k] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		text[n] = '\0';
		got = conf_expand(c, text, &err);
		if (got == NULL)
			cr_expect(err.reason[0] != '\0', "\"%s\": no reason",
			    text);
		free(got);
	}
	conf_free(c);
}
