// Finds the command that proves a task done (the project's own tests, read from the files that declare them) and
// checks that a given command's program can start at all. It neither runs the command nor judges its arguments.
// NOTE: a builtin workflow uses this, and builtins use only public APIs, so it imports nothing but `node:` modules.

import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { delimiter, extname, isAbsolute, join, resolve } from "node:path";

export type Detected = { ok: true; command: string; why: string } | { ok: false; error: string };

const LOOKED_FOR =
	"package.json scripts.test, pytest (pyproject.toml [tool.pytest], pytest.ini, tox.ini, setup.cfg, tests/test_*.py), " +
	"go.mod, Cargo.toml, pom.xml, a Makefile with a test target";
const PASS_VERIFY = 'pass "verify" (for example "npm test")';

/** Lockfiles in the order they decide; the first present names the package manager. */
const LOCKFILES: ReadonlyArray<{ file: string; manager: string; command: string }> = [
	{ file: "package-lock.json", manager: "npm", command: "npm test" },
	{ file: "pnpm-lock.yaml", manager: "pnpm", command: "pnpm test" },
	{ file: "yarn.lock", manager: "yarn", command: "yarn test" },
	// NOTE: `bun test` starts bun's own test runner and ignores scripts.test; `bun run test` runs the script.
	{ file: "bun.lockb", manager: "bun", command: "bun run test" },
	{ file: "bun.lock", manager: "bun", command: "bun run test" },
];

/** What `npm init` writes as scripts.test: a placeholder that always fails, not a test suite. */
const NPM_DEFAULT_TEST = /^echo\s+["']?Error: no test specified["']?\s*&&\s*exit\s+1$/;

/** Finds how a project runs its tests: Node, then Python, Go, Rust, Maven and Make; the first found wins. */
export function detectVerifyCommand(cwd: string): Detected {
	const root = resolve(cwd);
	if (!isFolder(root)) {
		return { ok: false, error: `no verify command given and ${root} is not a folder; ${PASS_VERIFY}` };
	}
	const found = detectNode(root) ?? detectPytest(root) ?? detectSimple(root) ?? detectMake(root);
	if (found) return { ok: true, ...found };
	return {
		ok: false,
		error: `no verify command given and none found in ${root}: looked for ${LOOKED_FOR}; ${PASS_VERIFY}`,
	};
}

type Found = { command: string; why: string };

function detectNode(root: string): Found | undefined {
	const text = readText(join(root, "package.json"));
	if (text === undefined) return undefined;
	let test: unknown;
	try {
		test = (JSON.parse(text) as { scripts?: { test?: unknown } } | null)?.scripts?.test;
	} catch {
		return undefined;
	}
	if (typeof test !== "string" || test.trim() === "" || NPM_DEFAULT_TEST.test(test.trim())) return undefined;
	const present = LOCKFILES.filter((lock) => isFile(join(root, lock.file)));
	const chosen = present[0];
	if (!chosen) return { command: "npm test", why: "package.json has scripts.test and there is no lockfile, so npm" };
	const others = present.filter((lock) => lock.manager !== chosen.manager).map((lock) => lock.file);
	const also = others.length > 0 ? ` (${others.join(", ")} also present)` : "";
	return {
		command: chosen.command,
		why: `package.json has scripts.test and ${chosen.file} says ${chosen.manager}${also}`,
	};
}

/** pytest's own config files in the order pytest reads them, each with the section that marks it as pytest's. */
const PYTEST_CONFIGS: ReadonlyArray<{ file: string; section?: RegExp }> = [
	{ file: "pytest.ini" },
	{ file: "pyproject.toml", section: /^[ \t]*\[tool\.pytest(?:\.[^\]\s]+)?\]/m },
	{ file: "tox.ini", section: /^[ \t]*\[pytest\]/m },
	{ file: "setup.cfg", section: /^[ \t]*\[tool:pytest\]/m },
];

function detectPytest(root: string): Found | undefined {
	for (const { file, section } of PYTEST_CONFIGS) {
		const text = readText(join(root, file));
		if (text === undefined) continue;
		if (!section) return { command: "pytest -q", why: `${file} exists` };
		const header = section.exec(text)?.[0].trim();
		if (header) return { command: "pytest -q", why: `${file} has ${header}` };
	}
	const tests = join(root, "tests");
	if (!isFolder(tests)) return undefined;
	const first = listFolder(tests)
		.filter((name) => /^test_.*\.py$/.test(name) && isFile(join(tests, name)))
		.sort()[0];
	return first ? { command: "pytest -q", why: `tests/ holds ${first}` } : undefined;
}

const MARKER_FILES: ReadonlyArray<{ file: string; command: string }> = [
	{ file: "go.mod", command: "go test ./..." },
	{ file: "Cargo.toml", command: "cargo test" },
	{ file: "pom.xml", command: "mvn -q test" },
];

function detectSimple(root: string): Found | undefined {
	const marker = MARKER_FILES.find(({ file }) => isFile(join(root, file)));
	return marker ? { command: marker.command, why: `${marker.file} exists` } : undefined;
}

/** A rule line's targets: `a b: deps` or `a::`, never an assignment (`:=`, `::=`) or a recipe line (tab). */
const RULE = /^ *([^\t#:=][^#:=]*?)\s*::?(?![:=])/;

function detectMake(root: string): Found | undefined {
	// NOTE: GNU make reads only the first of these that exists, so a test target in a later one would not run.
	const file = ["GNUmakefile", "makefile", "Makefile"].find((name) => isFile(join(root, name)));
	if (!file) return undefined;
	const text = readText(join(root, file)) ?? "";
	const hasTest = text.split(/\r?\n/).some((line) => RULE.exec(line)?.[1]?.split(/\s+/).includes("test"));
	return hasTest ? { command: "make test", why: `${file} has a test target` } : undefined;
}

/** Shell builtins and reserved words: `sh -c` runs them without a program on PATH. */
const SHELL_WORDS = new Set(
	(
		". : [ [[ ! { ( alias bg break builtin case cd command continue declare echo eval exec exit export false fg for " +
		"function getopts hash if jobs kill let local printf pwd read readonly return select set shift source test time " +
		"times trap true type typeset ulimit umask unalias unset until wait while"
	).split(" "),
);

/** Checks that a command's program can start; undefined when it can, else the problem in one sentence. */
export function verifyCommandProblem(
	command: string,
	cwd: string,
	env: NodeJS.ProcessEnv = process.env,
): string | undefined {
	const label = `verify command ${JSON.stringify(command)}`;
	const words = leadingWords(command);
	let path = envValue(env, "PATH") ?? "";
	let index = 0;
	for (; index < words.length; index++) {
		// An assignment's name is written bare (`"A=b" cmd` runs a program named A=b); its value may be quoted.
		const current = words[index];
		if (!current || !/^[A-Za-z_][A-Za-z0-9_]*=/.test(current.raw)) break;
		const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(current.text);
		if (!assignment) break;
		// `PATH=... cmd` changes where the shell looks for cmd; expand what can be expanded, trust the rest.
		if (assignment[1] === "PATH") {
			const value = expandSimple(assignment[2] ?? "", env);
			if (value === undefined) return undefined;
			path = value;
		}
	}
	const word = words[index];
	if (!word) return `${label}: ${index > 0 ? "sets variables but runs no program" : "is empty"}`;
	// An operator first (a subshell, a redirect), an expansion or a glob: the shell decides, not a static look.
	if (word.operator || SHELL_WORDS.has(word.text) || /[$`*?]/.test(word.raw)) return undefined;
	const program = word.text.startsWith("~/") ? join(envValue(env, "HOME") ?? "~", word.text.slice(2)) : word.text;
	const name = JSON.stringify(word.text);
	if (program.includes("/") || isAbsolute(program)) {
		const target = resolve(cwd, program);
		if (!exists(target)) return `${label}: ${name} does not exist (looked at ${target})`;
		if (isFolder(target)) return `${label}: ${name} is a folder, not a program`;
		if (!isExecutable(target)) {
			return `${label}: ${name} is a file but not executable (chmod +x it, or run it through its interpreter, for example "sh ${word.text}")`;
		}
		return undefined;
	}
	const entries = path === "" ? [] : path.split(delimiter);
	if (entries.some((entry) => candidates(resolve(cwd, entry), program, env).some(isProgram))) return undefined;
	return `${label}: ${name} was not found on PATH (${describePath(entries)})`;
}

interface Word {
	/** The word as the shell would pass it: quotes removed, escapes applied. */
	text: string;
	/** The word as written. */
	raw: string;
	/** A control or redirect operator (`(`, `;`, `&&`, `>`...) rather than a word. */
	operator?: boolean;
}

/** The words up to the first operator (which is included): enough to see the assignments and the program. */
function leadingWords(command: string): Word[] {
	const words: Word[] = [];
	let i = 0;
	while (i < command.length) {
		while (i < command.length && /[ \t]/.test(command[i] ?? "")) i++;
		if (i >= command.length || command[i] === "#") break;
		if (/[;&|()<>\n]/.test(command[i] ?? "")) {
			words.push({ text: command[i] ?? "", raw: command[i] ?? "", operator: true });
			break;
		}
		const start = i;
		let text = "";
		while (i < command.length && !/[ \t;&|()<>\n]/.test(command[i] ?? "")) {
			const char = command[i] ?? "";
			if (char === "'" || char === '"') {
				const end = command.indexOf(char, i + 1);
				const stop = end === -1 ? command.length : end;
				const inner = command.slice(i + 1, stop);
				text += char === '"' ? inner.replace(/\\([$`"\\\n])/g, "$1") : inner;
				i = stop + 1;
			} else if (char === "\\") {
				text += command[i + 1] ?? "";
				i += 2;
			} else {
				text += char;
				i++;
			}
		}
		words.push({ text, raw: command.slice(start, i) });
	}
	return words;
}

/** `$NAME` and `${NAME}` from env; undefined when the value holds any other expansion (`$(...)`, backticks). */
function expandSimple(value: string, env: NodeJS.ProcessEnv): string | undefined {
	const reference = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
	if (/[$`]/.test(value.replace(reference, ""))) return undefined;
	return value.replace(reference, (_, braced?: string, bare?: string) => envValue(env, braced ?? bare ?? "") ?? "");
}

/** An env variable; on Windows names are case-insensitive (`Path`). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
	if (process.platform !== "win32") return env[name];
	const key = Object.keys(env).find((candidate) => candidate.toUpperCase() === name);
	return key === undefined ? undefined : env[key];
}

/** The files a PATH entry could hold for a program: the name, and on Windows the name with each PATHEXT. */
function candidates(folder: string, program: string, env: NodeJS.ProcessEnv): string[] {
	const plain = join(folder, program);
	if (process.platform !== "win32" || extname(program) !== "") return [plain];
	const extensions = (envValue(env, "PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean);
	return [plain, ...extensions.map((extension) => plain + extension)];
}

/** PATH for a message: the first entries up to about 200 characters, then how many more there are. */
function describePath(entries: string[]): string {
	if (entries.length === 0) return "PATH is empty";
	const shown: string[] = [];
	let length = 0;
	for (const entry of entries) {
		if (shown.length > 0 && (shown.length >= 8 || length + entry.length > 200)) break;
		shown.push(entry);
		length += entry.length + 1;
	}
	const rest = entries.length - shown.length;
	return `PATH: ${shown.join(delimiter)}${rest > 0 ? ` and ${rest} more` : ""}`;
}

function isProgram(path: string): boolean {
	return isFile(path) && isExecutable(path);
}

function isExecutable(path: string): boolean {
	try {
		accessSync(path, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

function exists(path: string): boolean {
	try {
		statSync(path);
		return true;
	} catch {
		return false;
	}
}

function isFile(path: string): boolean {
	try {
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

function isFolder(path: string): boolean {
	try {
		return statSync(path).isDirectory();
	} catch {
		return false;
	}
}

function readText(path: string): string | undefined {
	if (!isFile(path)) return undefined;
	try {
		return readFileSync(path, "utf8");
	} catch {
		return undefined;
	}
}

function listFolder(path: string): string[] {
	try {
		return readdirSync(path);
	} catch {
		return [];
	}
}
