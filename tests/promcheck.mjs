// tests/promcheck.mjs FILE: check a Prometheus text exposition file
// (format 0.0.4, what node_exporter's textfile collector reads) against
// the naming rules, the way `promtool check metrics` does for the parts
// that matter here:
//   - metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* (labels
//     without ':'), label names do not start with "__";
//   - every sample belongs to a family announced by one # HELP and one
//     # TYPE line before its first sample, families are not split;
//   - counters end in _total; gauges of time say their unit
//     (_seconds, _timestamp_seconds), none ends in _total;
//   - label values are quoted with only \\, \" and \n escapes;
//   - values parse as floats; no series appears twice.
// Prints "ok N families, M samples" or one line per problem (exit 1).
// With --json, prints {"name{labels}": value, ...} after checking.
import { readFileSync } from 'node:fs';

const file = process.argv.filter((a) => !a.startsWith('--'))[2];
const json = process.argv.includes('--json');
const text = readFileSync(file, 'utf8');
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const problems = [];
const help = new Map(), type = new Map(), seen = new Set(), values = {};
let current = null, samples = 0;
const done = new Set();

if (!text.endsWith('\n')) problems.push('the file does not end in a newline');
text.split('\n').forEach((line, i) => {
	const at = `line ${i + 1}`;
	if (line === '') return;
	let m;
	if ((m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line))) {
		const [, kw, name, rest] = m;
		if (!NAME.test(name)) problems.push(`${at}: bad metric name '${name}'`);
		const map = kw === 'HELP' ? help : type;
		if (map.has(name)) problems.push(`${at}: second ${kw} for ${name}`);
		map.set(name, rest);
		if (kw === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
			problems.push(`${at}: unknown type '${rest}'`);
		if (current !== name) {
			if (current) done.add(current);
			if (done.has(name)) problems.push(`${at}: family ${name} split`);
			current = name;
		}
		return;
	}
	if (line.startsWith('#')) return;
	m = /^([^{\s]+)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
	if (!m) { problems.push(`${at}: not a sample: ${line}`); return; }
	const [, name, , labels = '', value] = m;
	samples++;
	if (!NAME.test(name)) problems.push(`${at}: bad metric name '${name}'`);
	if (name !== current) problems.push(`${at}: sample of ${name} outside its family (HELP/TYPE first)`);
	if (!help.has(name)) problems.push(`${at}: ${name} has no HELP`);
	if (!type.has(name)) problems.push(`${at}: ${name} has no TYPE`);
	const t = type.get(name);
	if (t === 'counter' && !name.endsWith('_total')) problems.push(`${at}: counter ${name} does not end in _total`);
	if (t !== 'counter' && name.endsWith('_total')) problems.push(`${at}: ${t} ${name} ends in _total`);
	if (name.split('_').some((w) => ['time', 'age', 'uptime', 'since', 'timestamp'].includes(w)) && !/_seconds$/.test(name)) problems.push(`${at}: ${name}: a time without its unit`);
	// labels: name="value" pairs
	const re = /([^=,]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;
	let pos = 0; const names = new Set();
	while (pos < labels.length) {
		re.lastIndex = pos;
		const l = re.exec(labels);
		if (!l) { problems.push(`${at}: bad labels: {${labels}}`); break; }
		if (!LABEL.test(l[1]) || l[1].startsWith('__')) problems.push(`${at}: bad label name '${l[1]}'`);
		if (names.has(l[1])) problems.push(`${at}: label ${l[1]} twice`);
		names.add(l[1]);
		pos = re.lastIndex;
	}
	if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^[-+]?Inf$|^NaN$/.test(value))
		problems.push(`${at}: value '${value}' is not a number`);
	const key = `${name}{${labels}}`;
	if (seen.has(key)) problems.push(`${at}: series ${key} twice`);
	seen.add(key);
	values[key] = Number(value);
});
if (problems.length) {
	console.log(problems.join('\n'));
	process.exit(1);
}
console.log(json ? JSON.stringify(values) : `ok ${type.size} families, ${samples} samples`);
