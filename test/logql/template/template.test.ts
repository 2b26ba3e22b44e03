// Unit tests of the Go text/template engine: syntax, Go fmt verbs, functions (Go builtins, Loki's
// and sprig's) and Go's exact parse/exec error texts. Expected values are what Go 1.26 +
// sprig v3 produce for the same template.
import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateExecError, TemplateParseError } from '../../../src/logql/template/index.js';

const TS = 1795134797264000000n; // 2026-11-20T00:33:17.264Z
const labels = { a: 'x', b: 'y', n: '42', f: '12.5', msg: 'cache miss', path: '/api/v1/users/120', empty: '' };

function run(tmpl: string, lbls: Record<string, string> = labels, line = 'the line', tsNs = TS): string {
  return compileTemplate(tmpl).execute({ labels: lbls, line, tsNs });
}

function execErr(tmpl: string): string {
  try {
    run(tmpl);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateExecError);
    return (e as Error).message;
  }
  throw new Error('expected an execution error');
}

function parseErr(tmpl: string, name = 'line'): string {
  try {
    compileTemplate(tmpl, name);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateParseError);
    return (e as Error).message;
  }
  throw new Error('expected a parse error');
}

describe('syntax', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{.a}}-{{.b}}', 'x-y'],
    ['[{{.missing}}]', '[]'],
    ['{{ if .missing }}y{{ else }}n{{ end }}', 'n'],
    ['{{ if .a }}y{{ else }}n{{ end }}', 'y'],
    ['{{ if eq .a "z" }}1{{ else if eq .a "x" }}2{{ else }}3{{ end }}', '2'],
    ['a  {{- .a -}}  b', 'axb'],
    ['a {{- /* comment */ -}} b', 'ab'],
    ['a{{/* c */}}b', 'ab'],
    ['{{ $x := .a }}{{ $x }}{{ $x = "z" }}{{ $x }}', 'xz'],
    ['{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', '[x]'],
    ['{{ with .empty }}[{{ . }}]{{ else }}none{{ end }}', 'none'],
    ['{{ with .empty }}a{{ else with .b }}{{ . }}{{ end }}', 'y'],
    ['{{ .a | printf "%s!" | printf "<%s>" }}', '<x!>'],
    ['{{ (printf "%s%s" .a .b) | upper }}', 'XY'],
    ['{{ range $i, $v := fromJson `["p","q"]` }}{{ $i }}{{ $v }};{{ end }}', '0p;1q;'],
    ['{{ range $k, $v := fromJson `{"b":1,"a":2}` }}{{ $k }}={{ $v }} {{ end }}', 'a=2 b=1 '],
    ['{{ range fromJson `[]` }}x{{ else }}empty{{ end }}', 'empty'],
    ['{{ range 3 }}{{ . }}{{ end }}', '012'],
    ['{{ range $i, $v := fromJson `[1,2,3,4]` }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $v }}{{ end }}', '12'],
    ['{{ range $i, $v := fromJson `[1,2,3]` }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $v }}{{ end }}', '13'],
    ['{{ (fromJson `{"a":{"b":"c"}}`).a.b }}', 'c'],
    ['{{ (fromJson `{"a":1}`).zz }}', '<no value>'],
    ['{{ fromJson `{"a":[1,"x",true,null]}` }}', 'map[a:[1 x true <nil>]]'],
    ['{{ $ }}', 'map[a:x b:y empty: f:12.5 msg:cache miss n:42 path:/api/v1/users/120]'],
    ['{{ index . "a" }}{{ index . "zz" }}', 'x'],
    ['{{ true }} {{ false }} {{ 1 }} {{ 1.5 }} {{ 0x10 }} {{ 1e3 }} {{ \'a\' }} {{ "s" }} {{ `r` }}', 'true false 1 1.5 16 1000 97 s r'],
    ['{{ and .a .b }} {{ and .a .empty }}|{{ or .empty .b }} {{ not .a }}', 'y |y false'],
    ['{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .a }}', '[x]'],
    ['{{ __line__ }}', 'the line'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
});

describe('printf', () => {
  it.each([
    ['{{ printf "%d" 42 }}', '42'],
    ['{{ printf "%5d|%-5d|%05d" 42 42 -42 }}', '   42|42   |-0042'],
    ['{{ printf "%+d %x %X %o %b %#x %c %q %U" 42 255 255 8 5 255 65 65 65 }}', "+42 ff FF 10 101 0xff A 'A' U+0041"],
    ['{{ printf "%f %.2f %8.3f %e %g %G" 3.14159 3.14159 3.14159 1234.5678 0.000012 1e21 }}', '3.141590 3.14    3.142 1.234568e+03 1.2e-05 1E+21'],
    ['{{ printf "%.0f %.0f %.0f %.1f" 0.5 1.5 2.5 0.25 }}', '0 2 2 0.2'],
    ['{{ printf "%v %v %v %v" 1e6 123456.0 0.0001 100000000.0 }}', '1e+06 123456 0.0001 1e+08'],
    ['{{ printf "%s|%10s|%-10s|%.2s|%q|%x" "go" "go" "go" "gopher" "a\\"b" "hi" }}', 'go|        go|go        |go|"a\\"b"|6869'],
    ['{{ printf "%t %v" true false }}', 'true false'],
    ['{{ printf "%08.2f" .f }}', '%!f(string=00000012)'],
    ['{{ printf "%08.2f" (float64 .f) }}', '00012.50'],
    ['{{ printf "%d" .n }}', '%!d(string=42)'],
    ['{{ printf "%d" (int .n) }}', '42'],
    ['{{ printf "%s" 42 }}', '%!s(int=42)'],
    ['{{ printf "%d %d" 1 }}', '1 %!d(MISSING)'],
    ['{{ printf "%d" 1 2 }}', '1%!(EXTRA int=2)'],
    ['{{ printf "%!" }}', '%!!(MISSING)'],
    ['{{ printf "%" }}', '%!(NOVERB)'],
    ['{{ printf "%z" 1 }}', '%!z(int=1)'],
    ['{{ printf "%[2]s %[1]s" "a" "b" }}', 'b a'],
    ['{{ printf "%*d" 5 1 }}', '    1'],
    ['{{ printf "%d%%" 50 }}', '50%'],
    ['{{ printf "%v" nil }}', '<nil>'],
    ['{{ printf "%v|%v" (add 1 2) (addf 1 2) }}', '3|3'],
    ['{{ printf "%T %T %T %T" 1 1.5 "s" (add 1 1) }}', 'int float64 string int64'],
    ['{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}', 'a1 2b|a 1\n'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
});

describe('string functions', () => {
  it.each([
    ['{{ ToLower "AbC" }} {{ ToUpper "AbC" }} {{ lower "ÀB" }} {{ upper "straße" }}', 'abc ABC àb STRAßE'],
    ['{{ Replace "aaaa" "a" "b" 2 }} {{ Replace "ab" "" "-" -1 }} {{ replace "a" "b" "banana" }}', 'bbaa -a-b- bbnbnb'],
    ['[{{ Trim "xxaxx" "x" }}][{{ TrimLeft "xxaxx" "x" }}][{{ TrimRight "xxaxx" "x" }}]', '[a][axx][xxa]'],
    ['[{{ TrimPrefix "abc" "ab" }}][{{ TrimSuffix "abc" "bc" }}][{{ TrimSpace "  a \\n" }}][{{ trim " b " }}]', '[c][a][a][b]'],
    ['[{{ trimAll "-" "--a--" }}][{{ trimSuffix "c" "abc" }}][{{ trimPrefix "a" "abc" }}]', '[a][ab][bc]'],
    ['{{ title "hello wide-world foo_bar" }}', 'Hello Wide-World Foo_bar'],
    ['{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 10 "ab" }}', 'abc ef ab'],
    ['{{ substr 1 3 "abcdef" }} {{ substr 2 -1 "abcdef" }} {{ substr -1 2 "abcdef" }}', 'bc cdef ab'],
    ['{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "a" "abc" }}', 'true true false'],
    ['{{ indent 2 "a\\nb" }}|{{ nindent 1 "a" }}', '  a\n  b|\n a'],
    ['{{ repeat 3 "ab" }}', 'ababab'],
    ['[{{ alignLeft 5 "ab" }}][{{ alignLeft 1 "ab" }}][{{ alignRight 5 "ab" }}][{{ alignRight 1 "ab" }}]', '[ab   ][a][   ab][b]'],
    ['{{ b64enc "hello" }} {{ b64dec "aGVsbG8" }} {{ b64dec "aGVsbG8=" }} {{ b64dec "!!" }}', 'aGVsbG8= hello hello illegal base64 data at input byte 0'],
    ['{{ urlencode "a b&c/é" }} {{ urldecode "a+b%26c" }}', 'a+b%26c%2F%C3%A9 a b&c'],
    ['{{ len "héllo" }} {{ len . }}', '6 7'],
    ['{{ html "<a href=\'x\'>&\\"" }}', '&lt;a href=&#39;x&#39;&gt;&amp;&#34;'],
    ['{{ js "it\'s <b>" }}', "it\\'s \\u003Cb\\u003E"],
    ['{{ urlquery "a b" }}', 'a+b'],
    ['{{ slice "abcdef" 1 3 }} {{ index "abc" 1 }}', 'bc 98'],
    ['{{ default "d" .missing }} {{ default "d" .a }} {{ .missing | default "p" }} {{ default "d" 0 }}', 'd x p d'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
});

describe('regex functions (RE2, Go expansion)', () => {
  it.each([
    ['{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', '-W-xxW-'],
    ['{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}', '---'],
    ['{{ regexReplaceAll "(?P<d>[0-9]+)" "a12b3" "<$d>" }}', 'a<12>b<3>'],
    ['{{ regexReplaceAll "x" "axb" "$$" }}', 'a$b'],
    ['{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }}', '-${1}-'],
    ['{{ regexReplaceAll "a*" "baaac" "X" }}', 'XbXcX'],
    ['{{ count "a" "banana" }} {{ count "a*" "baaac" }} {{ count "[0-9]+" "a1b22c333" }}', '3 3 3'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
  it('reports a bad regex as a call error', () => {
    expect(execErr('{{ regexReplaceAll "(" .a "x" }}')).toMatch(
      /^template: line:1:3: executing "line" at <regexReplaceAll "\(" .a "x">: error calling regexReplaceAll: error parsing regexp: /,
    );
  });
});

describe('numeric functions (sprig/cast semantics)', () => {
  it.each([
    ['{{ add 1 2 3 }} {{ add "4" .n }} {{ add "1.9" 1 }} {{ add "abc" 1 }} {{ add "0x10" 1 }}', '6 46 2 1 17'],
    ['{{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }}', '-2 24 3 -3 1 -1'],
    ['{{ addf 0.1 0.2 }} {{ subf 1 0.9 }} {{ mulf 1.1 3 }} {{ divf 1 3 }} {{ divf 10 4 }}', '0.3 0.1 3.3 0.3333333333333333 2.5'],
    ['{{ max 1 5 3 }} {{ min 4 2 9 }} {{ maxf 1.5 2 }} {{ minf 1.5 2 }}', '5 2 2 1.5'],
    ['{{ ceil 1.2 }} {{ floor 1.8 }} {{ round 1.2345 2 }} {{ round 2.5 0 }} {{ ceil .f }}', '2 1 1.23 3 13'],
    ['{{ int "12" }} {{ int 3.9 }} {{ float64 "1.5" }} {{ float64 "x" }} {{ int .f }}', '12 3 1.5 0 12'],
    ['{{ if gt (int .n) 40 }}big{{ end }} {{ lt .a .b }} {{ le 1 1 }} {{ ge 2.5 3.5 }} {{ ne .a "x" }}', 'big true true false false'],
    ['{{ eq .a "q" "x" }} {{ eq (add 1 1) 2 }}', 'true true'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
  it('Loki bytes and duration conversions', () => {
    expect(run('{{ bytes "1.5KB" }} {{ bytes "2KiB" }} {{ bytes "10" }}')).toBe('1500 2048 10');
    expect(run('{{ duration "1.5s" }} {{ duration_seconds "2m3s" }} {{ "40us" | duration }}')).toBe('1.5 123 4e-05');
    expect(execErr('{{ duration "abc" }}')).toBe(
      'template: line:1:3: executing "line" at <duration "abc">: error calling duration: time: invalid duration "abc"',
    );
  });
});

describe('time functions', () => {
  it.each([
    ['{{ __timestamp__ }}', '2026-11-20 00:33:17.264 +0000 UTC'],
    ['{{ __timestamp__ | unixEpoch }} {{ __timestamp__ | unixEpochMillis }} {{ __timestamp__ | unixEpochNanos }}', '1795134797 1795134797264 1795134797264000000'],
    ['{{ __timestamp__ | date "2006-01-02 15:04:05.000 Mon Jan _2 3PM -07:00 MST" }}', '2026-11-20 00:33:17.264 Fri Nov 20 12AM +00:00 UTC'],
    ['{{ date "02/01/06" 0 }}', '01/01/70'],
    ['{{ toDate "2006-01-02T15:04:05Z07:00" "2026-11-20T01:00:00+01:00" | unixEpoch }}', '1795132800'],
    ['{{ toDate "2006-01-02" "bad" | unixEpoch }}', '-62135596800'],
    ['{{ toDate "2006-01-02 15:04:05.999" "2026-11-20 00:00:01.5" | unixEpochMillis }}', '1795132801500'],
    ['{{ toDateInZone "2006-01-02 15:04" "UTC" "2026-11-20 10:30" | unixEpoch }}', '1795170600'],
    ['{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2026-11-20 10:30" | unixEpoch }}', '1795188600'],
    ['{{ unixToTime "1795132800" }} {{ unixToTime "1795132800123" | unixEpochMillis }} {{ unixToTime "20777" | unixEpoch }}', '2026-11-20 00:00:00 +0000 UTC 1795132800123 1795132800'],
    ['{{ __timestamp__.Unix }} {{ (__timestamp__).Format "15:04" }}', '1795134797 00:33'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl)).toBe(want);
  });
  it('unixToTime errors', () => {
    expect(execErr('{{ unixToTime "12" }}')).toBe(
      "template: line:1:3: executing \"line\" at <unixToTime \"12\">: error calling unixToTime: unable to parse time '12': %!w(<nil>)",
    );
    expect(execErr('{{ unixToTime "abc" }}')).toContain(
      `unable to parse time 'abc': strconv.ParseInt: parsing "abc": invalid syntax`,
    );
  });
});

describe('execution errors (Go texts)', () => {
  it.each([
    ['{{ div 1 0 }}', 'template: line:1:3: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero'],
    ['{{ trunc .a .msg }}', 'template: line:1:9: executing "line" at <.a>: wrong type for value; expected int; got string'],
    ['{{ trunc (add 1 1) .msg }}', 'template: line:1:16: executing "line" at <1>: wrong type for value; expected int; got int64'],
    ['{{ .a.b }}', 'template: line:1:5: executing "line" at <.a.b>: can\'t evaluate field b in type string'],
    ['{{ trunc "x" .a }}', 'template: line:1:9: executing "line" at <"x">: expected integer; found "x"'],
    ['{{ upper 1 }}', 'template: line:1:9: executing "line" at <1>: expected string; found 1'],
    ['{{ upper .a .b }}', 'template: line:1:3: executing "line" at <upper>: wrong number of args for upper: want 1 got 2'],
    ['{{ lt .a 1 }}', 'template: line:1:3: executing "line" at <lt .a 1>: error calling lt: incompatible types for comparison'],
    ['{{ "x" | .a }}', 'template: line:1:9: executing "line" at <.a>: a is not a method but has arguments'],
    ['{{ repeat -1 "a" }}', 'template: line:1:3: executing "line" at <repeat -1 "a">: error calling repeat: strings: negative Repeat count'],
    ['{{ range .a }}{{ end }}', 'template: line:1:9: executing "line" at <.a>: range can\'t iterate over x'],
    ['{{ nil }}', 'template: line:1:3: executing "line" at <nil>: nil is not a command'],
    ['{{ substr 3 1 "abcdef" }}', 'template: line:1:3: executing "line" at <substr 3 1 "abcdef">: error calling substr: runtime error: slice bounds out of range [3:1]'],
    ['{{ index 1 0 }}', 'template: line:1:3: executing "line" at <index 1 0>: error calling index: can\'t index item of type int'],
  ])('%s', (tmpl, want) => {
    expect(execErr(tmpl)).toBe(want);
  });
  it('reports the column in bytes on later lines', () => {
    expect(execErr('é\n  {{ div 1 0 }}')).toMatch(/^template: line:2:5: executing "line" at <div 1 0>/);
  });
});

describe('parse errors (Go texts)', () => {
  it.each([
    ['{{.foo', 'template: line:1: unclosed action'],
    ['{{ nosuchfunc .x }}', 'template: line:1: function "nosuchfunc" not defined'],
    ['{{ .a }', 'template: line:1: unexpected "}" in operand'],
    ['{{ if .a }}x', 'template: line:1: unexpected EOF'],
    ['{{ end }}', 'template: line:1: unexpected {{end}}'],
    ['{{ else }}', 'template: line:1: unexpected {{else}}'],
    ['{{ $x }}', 'template: line:1: undefined variable "$x"'],
    ['{{ }}', 'template: line:1: missing value for command'],
    ['{{ "a" | "b" }}', 'template: line:1: non executable command in pipeline stage 2'],
    ['{{ break }}', 'template: line:1: {{break}} outside {{range}}'],
    ['{{ "abc }}', 'template: line:1: unterminated quoted string'],
    ['{{ 3x }}', 'template: line:1: bad number syntax: "3x"'],
    ['{{/* x */ }}', 'template: line:1: comment ends before closing delimiter'],
    ['{{/* x', 'template: line:1: unclosed comment'],
    ['{{ (1 }}', 'template: line:1: unclosed left paren'],
    ['{{ 1) }}', 'template: line:1: unexpected ")" in command'],
    ['a\n{{ if }}', 'template: line:2: missing value for if'],
    ['{{ .a | 1 }}', 'template: line:1: non executable command in pipeline stage 2'],
  ])('%s', (tmpl, want) => {
    expect(parseErr(tmpl)).toBe(want);
  });
  it('uses the given template name (label_format uses "label")', () => {
    expect(parseErr('{{ .a ', 'label')).toBe('template: label:1: unclosed action');
  });
});

describe('compiled template reuse', () => {
  it('executes many entries with one compiled template and reports the simple key', () => {
    const t = compileTemplate('{{.a}}');
    expect(t.simpleKey).toBe('a');
    expect(t.execute({ labels: { a: '1' }, line: '', tsNs: 0n })).toBe('1');
    expect(t.execute({ labels: {}, line: '', tsNs: 0n })).toBe('');
    const u = compileTemplate('{{ .a }}/{{ __line__ | len }}/{{ if .b }}{{ .c }}{{ end }}');
    expect(u.requiredLabels).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 100; i++)
      expect(u.execute({ labels: { a: String(i), b: 'y', c: 'z' }, line: 'x'.repeat(i), tsNs: 0n })).toBe(`${i}/${i}/z`);
  });
  it('does not read Object prototype properties as labels', () => {
    expect(run('[{{ .constructor }}][{{ .toString }}]', {})).toBe('[][]');
  });
});
