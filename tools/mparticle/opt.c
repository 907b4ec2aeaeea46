/*
 * The option parser. Each command describes its options once, in a cli_opt
 * table; the same table drives parsing, the usage line and --help, so the
 * help can never drift from what the parser accepts.
 *
 * Deliberately small: long options (--name, --name=value, --name value),
 * single-letter aliases (-q, -n value), operands anywhere, "--" to end
 * options. No bundling of short options (-qv) and no abbreviations: both
 * make scripts fragile when an option is added later.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Width of the terminal the help is laid out for. */
#define HELP_WIDTH 80

void cli_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s%s%s: ", CLI_PROGRAM, command ? " " : "", command ? command : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const cli_opt *find_long(const cli_spec *spec, const char *name, size_t len) {
    for (size_t i = 0; i < spec->nopts; i++) {
        const cli_opt *o = &spec->opts[i];
        if (o->kind != CLI_OPT_ARGS && strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

static const cli_opt *find_short(const cli_spec *spec, char c) {
    for (size_t i = 0; i < spec->nopts; i++) {
        const cli_opt *o = &spec->opts[i];
        if (o->kind != CLI_OPT_ARGS && o->short_name == c)
            return o;
    }
    return NULL;
}

static const cli_opt *find_operands(const cli_spec *spec) {
    for (size_t i = 0; i < spec->nopts; i++)
        if (spec->opts[i].kind == CLI_OPT_ARGS)
            return &spec->opts[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Help                                                                     */
/* ------------------------------------------------------------------------ */

/* Appends one word to the usage line, wrapping under the command name. */
static void usage_word(FILE *out, const char *word, size_t *col, size_t indent) {
    size_t n = strlen(word);
    if (*col + 1 + n > HELP_WIDTH && *col > indent) {
        fprintf(out, "\n%*s", (int)indent, "");
        *col = indent;
    } else {
        fputc(' ', out);
        (*col)++;
    }
    fputs(word, out);
    *col += n;
}

static void print_usage_line(const cli_spec *spec, FILE *out) {
    size_t col = (size_t)fprintf(out, "usage: %s %s", CLI_PROGRAM, spec->command);
    size_t indent = col + 1;
    char word[128];
    for (size_t i = 0; i < spec->nopts; i++) {
        const cli_opt *o = &spec->opts[i];
        if (o->kind == CLI_OPT_ARGS)
            continue;
        if (o->value_name)
            snprintf(word, sizeof word, "[--%s %s]", o->name, o->value_name);
        else
            snprintf(word, sizeof word, "[--%s]", o->name);
        usage_word(out, word, &col, indent);
    }
    const cli_opt *operands = find_operands(spec);
    if (operands)
        usage_word(out, operands->name, &col, indent);
    fputc('\n', out);
}

/* The left column of the option list: "  -q, --quiet", "      --now MS", "  FILE". */
static void opt_label(const cli_opt *o, char *out, size_t cap) {
    if (o->kind == CLI_OPT_ARGS) {
        snprintf(out, cap, "  %s", o->value_name ? o->value_name : o->name);
        return;
    }
    char shortpart[8] = "    ";
    if (o->short_name)
        snprintf(shortpart, sizeof shortpart, "-%c, ", o->short_name);
    snprintf(out, cap, "  %s--%s%s%s", shortpart, o->name, o->value_name ? " " : "",
             o->value_name ? o->value_name : "");
}

/* Writes text from column `col`, wrapping at HELP_WIDTH to column `indent`. */
static void print_wrapped(FILE *out, const char *text, size_t col, size_t indent) {
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + word > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += word;
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

/* Options in table order, then -h/--help, then the operands. */
static const cli_opt *help_entry(const cli_spec *spec, size_t i) {
    static const cli_opt help_opt = {CLI_OPT_FLAG, "help", 'h', NULL, NULL, "show this help"};
    size_t seen = 0;
    for (size_t j = 0; j < spec->nopts; j++)
        if (spec->opts[j].kind != CLI_OPT_ARGS && seen++ == i)
            return &spec->opts[j];
    if (i == seen)
        return &help_opt;
    return i == seen + 1 ? find_operands(spec) : NULL;
}

void cli_print_help(const cli_spec *spec, FILE *out) {
    char label[128];
    const cli_opt *o;

    print_usage_line(spec, out);
    if (spec->description)
        fprintf(out, "\n%s", spec->description);

    size_t width = 0;
    for (size_t i = 0; (o = help_entry(spec, i)) != NULL; i++) {
        opt_label(o, label, sizeof label);
        if (strlen(label) > width)
            width = strlen(label);
    }
    fputs("\nOptions:\n", out);
    for (size_t i = 0; (o = help_entry(spec, i)) != NULL; i++) {
        opt_label(o, label, sizeof label);
        fprintf(out, "%-*s  ", (int)width, label);
        print_wrapped(out, o->help, width + 2, width + 2);
    }
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static int usage_error(const cli_spec *spec, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int usage_error(const cli_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s: ", CLI_PROGRAM, spec->command);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    print_usage_line(spec, stderr);
    return CLI_EXIT_ERROR;
}

/* strtoll without its leniencies: no leading blanks, no trailing garbage, no overflow. */
static int parse_int64(const char *s, int64_t *out) {
    if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+'))
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = (int64_t)v;
    return 1;
}

static int store_value(const cli_spec *spec, const cli_opt *o, const char *value) {
    switch (o->kind) {
    case CLI_OPT_STRING:
        *(const char **)o->value = value;
        return CLI_PARSED;
    case CLI_OPT_INT64:
        if (!parse_int64(value, (int64_t *)o->value))
            return usage_error(spec, "option '--%s' needs an integer, not '%s'", o->name, value);
        return CLI_PARSED;
    case CLI_OPT_FLAG:
    case CLI_OPT_ARGS:
        break;
    }
    return usage_error(spec, "option '--%s' takes no value", o->name);
}

/* Looks up the option `arg` names; sets *inline_value for --name=value. */
static const cli_opt *lookup(const cli_spec *spec, const char *arg, const char **inline_value,
                             int *is_help) {
    *inline_value = NULL;
    *is_help = 0;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (eq)
            *inline_value = eq + 1;
        if (len == 4 && memcmp(name, "help", 4) == 0) {
            *is_help = 1;
            return NULL;
        }
        return find_long(spec, name, len);
    }
    if (arg[2] != '\0') /* "-qv": no bundling */
        return NULL;
    if (arg[1] == 'h') {
        *is_help = 1;
        return NULL;
    }
    return find_short(spec, arg[1]);
}

int cli_parse(const cli_spec *spec, int argc, char **argv) {
    const cli_opt *operands = find_operands(spec);
    size_t noperands = 0;
    int options_ended = 0;

    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (options_ended || arg[0] != '-' || arg[1] == '\0') {
            /* Operands are packed to the front of argv, in order; there is
             * always room because i >= 1 + noperands. */
            argv[1 + noperands++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_ended = 1;
            continue;
        }
        const char *inline_value;
        int is_help;
        const cli_opt *o = lookup(spec, arg, &inline_value, &is_help);
        if (is_help) {
            if (inline_value)
                return usage_error(spec, "option '--help' takes no value");
            cli_print_help(spec, stdout);
            return CLI_EXIT_OK;
        }
        if (!o) {
            size_t len = strcspn(arg, "=");
            return usage_error(spec, "unknown option '%.*s'", (int)len, arg);
        }
        if (o->kind == CLI_OPT_FLAG) {
            if (inline_value)
                return usage_error(spec, "option '--%s' takes no value", o->name);
            *(int *)o->value = 1;
            continue;
        }
        const char *value = inline_value;
        if (!value) {
            if (i + 1 >= argc)
                return usage_error(spec, "option '--%s' needs a value (%s)", o->name,
                                   o->value_name ? o->value_name : "VALUE");
            value = argv[++i];
        }
        int rc = store_value(spec, o, value);
        if (rc != CLI_PARSED)
            return rc;
    }

    if (operands) {
        cli_args *args = operands->value;
        args->items = argv + 1;
        args->count = noperands;
    } else if (noperands > 0) {
        return usage_error(spec, "unexpected argument '%s'", argv[1]);
    }
    return CLI_PARSED;
}
