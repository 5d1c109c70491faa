// Diagnostics for fakewa go to stderr, one line each, so that stdout carries
// only the startup JSON line.  FAKEWA_QUIET=1 silences everything but errors.

const quiet = process.env.FAKEWA_QUIET === '1';

function emit(level, conn, msg, extra) {
	if (quiet && level !== 'error')
		return;
	let line = `fakewa[${process.pid}] ${level}`;
	if (conn !== undefined && conn !== null)
		line += ` conn=${conn}`;
	line += `: ${msg}`;
	if (extra !== undefined)
		line += ' ' + safeJSON(extra);
	process.stderr.write(line + '\n');
}

function safeJSON(v) {
	try {
		return JSON.stringify(v);
	} catch {
		return String(v);
	}
}

export const log = {
	info: (msg, extra) => emit('info', null, msg, extra),
	warn: (msg, extra) => emit('warn', null, msg, extra),
	error: (msg, extra) => emit('error', null, msg, extra),
	conn: (id) => ({
		info: (msg, extra) => emit('info', id, msg, extra),
		warn: (msg, extra) => emit('warn', id, msg, extra),
		error: (msg, extra) => emit('error', id, msg, extra)
	})
};
