/* mailward audit: reading what Dovecot and Postfix are configured with,
   from their own tools (doveconf -n, postconf -n, postconf -M) or from
   saved output or the files themselves. */

#include "cmd-audit.h"
#include "mw-util.h"

#include <ctype.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv and returns what it printed on stdout (malloc()ed).  Returns
   0, 1 if the program is not installed, or -1 (failed, or exited non-zero)
   with the reason in error[]. */
static int audit_run(char *const argv[], char **out_r, char *error,
		     size_t error_size)
{
	posix_spawn_file_actions_t actions;
	char *buf = NULL;
	size_t len = 0, alloc = 0;
	int fds[2], status, ret;
	ssize_t n;
	pid_t pid;

	*out_r = NULL;
	if (pipe(fds) < 0) {
		snprintf(error, error_size, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&actions, fds[0]);
	posix_spawn_file_actions_addclose(&actions, fds[1]);
	ret = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	if (ret != 0) {
		close(fds[0]);
		if (ret == ENOENT)
			return 1;
		snprintf(error, error_size, "cannot run %s: %s", argv[0],
			 strerror(ret));
		return -1;
	}
	for (;;) {
		if (len + 4096 + 1 > alloc) {
			alloc = alloc == 0 ? 16384 : alloc * 2;
			buf = mw_xreallocarray(buf, alloc, 1);
		}
		n = read(fds[0], buf + len, alloc - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(error, error_size, "%s failed (exit status %d)", argv[0],
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(buf);
		return -1;
	}
	*out_r = buf;
	return 0;
}

/* Saved output or the file itself; the whole of it. */
static int audit_slurp(const char *path, char **data_r, char *error,
		       size_t error_size)
{
	size_t size;

	return mw_read_file(path, true, MW_FILE_SIZE_MAX, data_r, &size, NULL,
			    error, error_size);
}

/* Either path's contents or argv's output, with source set for findings. */
static int audit_input(const char *path, char *const argv[], char **source_r,
		       char **data_r, struct audit_findings *findings)
{
	char error[MW_ERROR_SIZE + 64], *source;
	size_t len = 0;
	unsigned int i;
	int ret;

	if (path != NULL) {
		*source_r = mw_xstrdup(path);
		if (audit_slurp(path, data_r, error, sizeof(error)) < 0) {
			audit_read_error(findings, path, error);
			return -1;
		}
		return 0;
	}
	for (i = 0; argv[i] != NULL; i++)
		len += strlen(argv[i]) + 1;
	source = mw_xcalloc(1, len + 1);
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strcat(source, " ");
		strcat(source, argv[i]);
	}
	*source_r = source;
	ret = audit_run(argv, data_r, error, sizeof(error));
	if (ret < 0)
		audit_read_error(findings, source, error);
	return ret;
}

static char *audit_trim(char *str)
{
	char *end;

	while (isspace((unsigned char)*str))
		str++;
	end = str + strlen(str);
	while (end > str && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return str;
}

/* Values may be quoted in doveconf output: protocols = " imap lmtp". */
static char *audit_unquote(char *str)
{
	size_t len = strlen(str);

	if (len >= 2 && str[0] == '"' && str[len - 1] == '"') {
		str[len - 1] = '\0';
		return audit_trim(str + 1);
	}
	return str;
}

static void audit_conf_add(struct audit_conf *conf, const char *section,
			   const char *key, const char *value, unsigned int line)
{
	struct audit_setting *set;

	if (conf->count == conf->alloc) {
		conf->alloc = conf->alloc == 0 ? 64 : conf->alloc * 2;
		conf->items = mw_xreallocarray(conf->items, conf->alloc,
					       sizeof(*conf->items));
	}
	set = &conf->items[conf->count++];
	set->section = mw_xstrdup(section);
	set->key = mw_xstrdup(key);
	set->value = mw_xstrdup(value);
	set->line = line;
}

const struct audit_setting *
audit_conf_get(const struct audit_conf *conf, const char *section,
	       const char *key)
{
	unsigned int i;

	if (conf == NULL)
		return NULL;
	for (i = conf->count; i > 0; i--) {
		const struct audit_setting *set = &conf->items[i - 1];

		if (strcmp(set->key, key) == 0 && strcmp(set->section, section) == 0)
			return set;
	}
	return NULL;
}

void audit_conf_free(struct audit_conf *conf)
{
	unsigned int i;

	for (i = 0; i < conf->count; i++) {
		free(conf->items[i].section);
		free(conf->items[i].key);
		free(conf->items[i].value);
	}
	free(conf->items);
	free(conf->source);
	memset(conf, 0, sizeof(*conf));
}

#define AUDIT_DEPTH_MAX 16

/* doveconf -n output, or a dovecot.conf without !include: nested
   "name [arg] {" blocks of "key = value".  A block without an argument
   (2.4's "ssl_server {", "login_plugins {") also gives its keys to the
   enclosing block under their long names (ssl_server_cert_file), which is
   how they may be written too. */
static void audit_parse_doveconf(struct audit_conf *conf, char *data)
{
	char *paths[AUDIT_DEPTH_MAX + 1], *names[AUDIT_DEPTH_MAX + 1];
	bool has_arg[AUDIT_DEPTH_MAX + 1];
	unsigned int depth = 0, lineno = 0, passdbs = 0, skipped = 0, i;
	char *line, *next, *p, *eq, *key;

	paths[0] = mw_xstrdup("");
	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = audit_trim(line);
		if (*line == '#' || *line == '\0' || *line == '!')
			continue;
		if (strcmp(line, "}") == 0) {
			if (skipped > 0) {
				skipped--;
			} else if (depth > 0) {
				free(paths[depth]);
				free(names[depth]);
				depth--;
			}
			continue;
		}
		p = line + strlen(line) - 1;
		if (*p == '{' && strchr(line, '=') == NULL) {
			char *name, *arg, *path;
			int n;

			*p = '\0';
			name = audit_trim(line);
			if (skipped > 0 || depth == AUDIT_DEPTH_MAX) {
				skipped++;
				continue;
			}
			arg = name + strcspn(name, " \t");
			if (*arg != '\0')
				*arg++ = '\0';
			arg = audit_trim(arg);
			if (depth == 0 && strcmp(name, "passdb") == 0)
				n = asprintf(&path, "passdb#%u%s%s", ++passdbs,
					     *arg == '\0' ? "" : " ", arg);
			else
				n = asprintf(&path, "%s%s%s%s%s", paths[depth],
					     depth == 0 ? "" : "/", name,
					     *arg == '\0' ? "" : " ", arg);
			if (n < 0)
				mw_fatal("out of memory");
			depth++;
			paths[depth] = path;
			names[depth] = mw_xstrdup(name);
			has_arg[depth] = *arg != '\0';
			/* Marks the block itself, so that an empty one
			   (2.4's "passdb mailward { }") is seen too. */
			audit_conf_add(conf, path, "{", name, lineno);
			continue;
		}
		if (skipped > 0 || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		key = audit_trim(line);
		p = audit_unquote(audit_trim(eq + 1));
		audit_conf_add(conf, paths[depth], key, p, lineno);
		for (i = depth; i > 0 && !has_arg[i]; i--) {
			char *longkey;

			if (asprintf(&longkey, "%s_%s", names[i], key) < 0)
				mw_fatal("out of memory");
			audit_conf_add(conf, paths[i - 1], longkey, p, lineno);
			key = conf->items[conf->count - 1].key;
			free(longkey);
		}
	}
	for (i = 0; i <= depth; i++) {
		free(paths[i]);
		if (i > 0)
			free(names[i]);
	}
}

int audit_read_doveconf(const char *path, const char *config,
			struct audit_conf *conf, struct audit_findings *findings)
{
	char *argv[] = { "doveconf", "-c", (char *)config, "-n", NULL };
	char *data;
	int ret;

	if (config == NULL) {
		argv[1] = "-n";
		argv[2] = NULL;
	}
	ret = audit_input(path, argv, &conf->source, &data, findings);
	if (ret != 0)
		return ret;
	audit_parse_doveconf(conf, data);
	free(data);
	conf->loaded = true;
	return 0;
}

/* Lines of a Postfix file, with continuation lines (starting with white
   space) joined to the line they continue and comments dropped; calls
   handle with each logical line and the number of its first line. */
static void audit_postfix_lines(char *data, void (*handle)(void *, char *, unsigned int),
				void *context)
{
	char *line, *next, *logical = NULL;
	unsigned int lineno = 0, first = 0;
	size_t len;

	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '#' || *audit_trim(line) == '\0')
			continue;
		if (isspace((unsigned char)line[0]) && logical != NULL) {
			len = strlen(logical);
			logical = mw_xreallocarray(logical, len + strlen(line) + 2, 1);
			logical[len] = ' ';
			strcpy(logical + len + 1, audit_trim(line));
			continue;
		}
		if (logical != NULL) {
			handle(context, logical, first);
			free(logical);
		}
		logical = mw_xstrdup(audit_trim(line));
		first = lineno;
	}
	if (logical != NULL) {
		handle(context, logical, first);
		free(logical);
	}
}

static void audit_postconf_line(void *context, char *line, unsigned int lineno)
{
	struct audit_conf *conf = context;
	char *eq = strchr(line, '=');

	if (eq == NULL)
		return;
	*eq = '\0';
	audit_conf_add(conf, "", audit_trim(line), audit_trim(eq + 1), lineno);
}

int audit_read_postconf(const char *path, const char *config_dir,
			struct audit_conf *conf, struct audit_findings *findings)
{
	char *argv[] = { "postconf", "-c", (char *)config_dir, "-n", NULL };
	char *data;
	int ret;

	if (config_dir == NULL) {
		argv[1] = "-n";
		argv[2] = NULL;
	}
	ret = audit_input(path, argv, &conf->source, &data, findings);
	if (ret != 0)
		return ret;
	audit_postfix_lines(data, audit_postconf_line, conf);
	free(data);
	conf->loaded = true;
	return 0;
}

char *audit_postconf_param(const char *config_dir, const char *name)
{
	char *argv[] = { "postconf", "-c", (char *)config_dir, "-h", (char *)name, NULL };
	char error[MW_ERROR_SIZE], *out;

	if (config_dir == NULL) {
		argv[1] = "-h";
		argv[2] = (char *)name;
		argv[3] = NULL;
	}
	if (audit_run(argv, &out, error, sizeof(error)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void audit_service_override(struct audit_service *svc, char *opt)
{
	char *eq, *key, *value;

	opt = audit_trim(opt);
	if (*opt == '{') {
		size_t len = strlen(opt);

		if (len >= 2 && opt[len - 1] == '}')
			opt[len - 1] = '\0';
		opt = audit_trim(opt + 1);
	}
	eq = strchr(opt, '=');
	if (eq == NULL)
		return;
	*eq = '\0';
	key = audit_trim(opt);
	value = audit_trim(eq + 1);
	svc->override_keys = mw_xreallocarray(svc->override_keys,
					      svc->override_count + 1, sizeof(char *));
	svc->override_values = mw_xreallocarray(svc->override_values,
						svc->override_count + 1, sizeof(char *));
	svc->override_keys[svc->override_count] = mw_xstrdup(key);
	svc->override_values[svc->override_count] = mw_xstrdup(value);
	svc->override_count++;
}

/* name type private unpriv chroot wakeup maxproc command [args], where
   args hold "-o key=value" and "-o { key = value }". */
static void audit_master_line(void *context, char *line, unsigned int lineno)
{
	struct audit_master *master = context;
	struct audit_service svc;
	char *fields[8], *p = line, *end;
	unsigned int i;

	memset(&svc, 0, sizeof(svc));
	for (i = 0; i < 8; i++) {
		p += strspn(p, " \t");
		if (*p == '\0')
			return;
		fields[i] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	svc.name = mw_xstrdup(fields[0]);
	svc.type = mw_xstrdup(fields[1]);
	svc.command = mw_xstrdup(fields[7]);
	svc.line = lineno;
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (strncmp(p, "-o", 2) != 0) {
			p += strcspn(p, " \t");
			continue;
		}
		p += 2;
		p += strspn(p, " \t");
		if (*p == '{') {
			end = strchr(p, '}');
			end = end == NULL ? p + strlen(p) : end + 1;
		} else {
			end = p + strcspn(p, " \t");
		}
		{
			char save = *end;

			*end = '\0';
			audit_service_override(&svc, p);
			*end = save;
		}
		p = end;
	}
	master->services = mw_xreallocarray(master->services, master->count + 1,
					    sizeof(*master->services));
	master->services[master->count++] = svc;
}

int audit_read_master(const char *path, const char *config_dir,
		      struct audit_master *master, struct audit_findings *findings)
{
	char *argv[] = { "postconf", "-c", (char *)config_dir, "-M", NULL };
	char *data;
	int ret;

	if (config_dir == NULL) {
		argv[1] = "-M";
		argv[2] = NULL;
	}
	ret = audit_input(path, argv, &master->source, &data, findings);
	if (ret != 0)
		return ret;
	audit_postfix_lines(data, audit_master_line, master);
	free(data);
	master->loaded = true;
	return 0;
}

const char *audit_service_param(const struct audit_service *svc,
				const struct audit_conf *main_cf,
				const char *key)
{
	const struct audit_setting *set;
	unsigned int i;

	for (i = svc == NULL ? 0 : svc->override_count; i > 0; i--) {
		if (strcmp(svc->override_keys[i - 1], key) == 0)
			return svc->override_values[i - 1];
	}
	set = audit_conf_get(main_cf, "", key);
	return set == NULL ? NULL : set->value;
}

void audit_master_free(struct audit_master *master)
{
	unsigned int i, j;

	for (i = 0; i < master->count; i++) {
		struct audit_service *svc = &master->services[i];

		for (j = 0; j < svc->override_count; j++) {
			free(svc->override_keys[j]);
			free(svc->override_values[j]);
		}
		free(svc->override_keys);
		free(svc->override_values);
		free(svc->name);
		free(svc->type);
		free(svc->command);
	}
	free(master->services);
	free(master->source);
	memset(master, 0, sizeof(*master));
}
