/* mailward audit: findings and how they are printed, as text for a person
   or as JSON for tooling. */

#include "cmd-audit.h"
#include "mw-util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const audit_severity_names[] = {
	[AUDIT_INFO] = "info", [AUDIT_LOW] = "low",
	[AUDIT_MEDIUM] = "medium", [AUDIT_HIGH] = "high",
};

const char *audit_severity_name(enum audit_severity severity)
{
	return audit_severity_names[severity];
}

void audit_add(struct audit_findings *findings, enum audit_severity severity,
	       const char *id, const char *file, unsigned int line,
	       const char *setting, const char *why, const char *fix)
{
	struct audit_finding *f;

	if (findings->count == findings->alloc) {
		findings->alloc = findings->alloc == 0 ? 16 : findings->alloc * 2;
		findings->items = mw_xreallocarray(findings->items, findings->alloc,
						   sizeof(*findings->items));
	}
	f = &findings->items[findings->count++];
	f->severity = severity;
	f->id = id;
	f->setting = mw_xstrdup(setting);
	f->file = mw_xstrdup(file == NULL ? "" : file);
	f->line = line;
	f->why = mw_xstrdup(why);
	f->fix = mw_xstrdup(fix);
}

void audit_addf(struct audit_findings *findings, enum audit_severity severity,
		const char *id, const char *file, unsigned int line,
		const char *why, const char *fix, const char *setting_fmt, ...)
{
	va_list args;
	char *setting;

	va_start(args, setting_fmt);
	if (vasprintf(&setting, setting_fmt, args) < 0)
		mw_fatal("out of memory");
	va_end(args);
	audit_add(findings, severity, id, file, line, setting, why, fix);
	free(setting);
}

void audit_read_error(struct audit_findings *findings, const char *source,
		      const char *what)
{
	findings->read_failed = true;
	audit_add(findings, AUDIT_HIGH, "unreadable", source, 0, what,
		  "what cannot be read cannot be audited",
		  "run mailward audit as root, or name readable copies with the options");
}

void audit_findings_free(struct audit_findings *findings)
{
	unsigned int i;

	for (i = 0; i < findings->count; i++) {
		free(findings->items[i].setting);
		free(findings->items[i].file);
		free(findings->items[i].why);
		free(findings->items[i].fix);
	}
	free(findings->items);
	memset(findings, 0, sizeof(*findings));
}

/* Most severe first; otherwise in the order they were found. */
static int audit_finding_cmp(const void *a, const void *b)
{
	const struct audit_finding *fa = *(const struct audit_finding *const *)a;
	const struct audit_finding *fb = *(const struct audit_finding *const *)b;

	if (fa->severity != fb->severity)
		return fa->severity > fb->severity ? -1 : 1;
	return fa < fb ? -1 : (fa > fb ? 1 : 0);
}

static const struct audit_finding **
audit_sorted(const struct audit_findings *findings)
{
	const struct audit_finding **sorted;
	unsigned int i;

	sorted = mw_xreallocarray(NULL, findings->count + 1, sizeof(*sorted));
	for (i = 0; i < findings->count; i++)
		sorted[i] = &findings->items[i];
	qsort(sorted, findings->count, sizeof(*sorted), audit_finding_cmp);
	return sorted;
}

static void audit_count(const struct audit_findings *findings,
			unsigned int counts[AUDIT_HIGH + 1])
{
	unsigned int i;

	memset(counts, 0, sizeof(unsigned int) * (AUDIT_HIGH + 1));
	for (i = 0; i < findings->count; i++)
		counts[findings->items[i].severity]++;
}

void audit_print_text(const struct audit_findings *findings, FILE *out)
{
	const struct audit_finding **sorted = audit_sorted(findings);
	unsigned int counts[AUDIT_HIGH + 1], i;

	for (i = 0; i < findings->count; i++) {
		const struct audit_finding *f = sorted[i];
		char upper[8];
		size_t j;

		for (j = 0; audit_severity_name(f->severity)[j] != '\0'; j++)
			upper[j] = (char)(audit_severity_name(f->severity)[j] - 'a' + 'A');
		upper[j] = '\0';
		fprintf(out, "%-6s %s: %s\n", upper, f->id, f->setting);
		if (f->line > 0)
			fprintf(out, "       in:  %s:%u\n", f->file, f->line);
		else
			fprintf(out, "       in:  %s\n", f->file);
		fprintf(out, "       why: %s\n", f->why);
		fprintf(out, "       fix: %s\n", f->fix);
	}
	audit_count(findings, counts);
	fprintf(out, "%u finding%s: %u high, %u medium, %u low, %u info%s\n",
		findings->count, findings->count == 1 ? "" : "s",
		counts[AUDIT_HIGH], counts[AUDIT_MEDIUM], counts[AUDIT_LOW],
		counts[AUDIT_INFO],
		findings->read_failed ? "; some configuration could not be read" : "");
	free(sorted);
}

static void audit_json_string(FILE *out, const char *str)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void audit_print_json(const struct audit_findings *findings, FILE *out)
{
	const struct audit_finding **sorted = audit_sorted(findings);
	unsigned int counts[AUDIT_HIGH + 1], i;

	fputs("{\"findings\": [", out);
	for (i = 0; i < findings->count; i++) {
		const struct audit_finding *f = sorted[i];

		fputs(i == 0 ? "\n  {" : ",\n  {", out);
		fputs("\"severity\": ", out);
		audit_json_string(out, audit_severity_name(f->severity));
		fputs(", \"id\": ", out);
		audit_json_string(out, f->id);
		fputs(", \"setting\": ", out);
		audit_json_string(out, f->setting);
		fputs(", \"file\": ", out);
		audit_json_string(out, f->file);
		fprintf(out, ", \"line\": %u, \"why\": ", f->line);
		audit_json_string(out, f->why);
		fputs(", \"fix\": ", out);
		audit_json_string(out, f->fix);
		fputc('}', out);
	}
	audit_count(findings, counts);
	fprintf(out, "\n],\n\"summary\": {\"high\": %u, \"medium\": %u, \"low\": %u, "
		"\"info\": %u, \"read_failed\": %s}}\n",
		counts[AUDIT_HIGH], counts[AUDIT_MEDIUM], counts[AUDIT_LOW],
		counts[AUDIT_INFO], findings->read_failed ? "true" : "false");
	free(sorted);
}
