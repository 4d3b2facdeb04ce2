// Containment of a stage's file tools: a stage given write roots cannot write outside them with Pi's `write` and
// `edit` tools, nor with `bash` redirections and the common commands that write (tee, touch, mkdir, rm, rmdir,
// cp, mv, ln, install, sed -i, perl -i, truncate, dd of=), whether through `..`, a `cd`, or a symbolic link
// (dangling ones too). Reading stays free. A bash target known only when the command runs ($VAR, $(...)) is
// refused, since it cannot be checked before.
// NOTE: this is a guard against a model's mistakes, not a security sandbox. Bash can write in ways no static
// reading of a command sees: a script file it runs, an interpreter (`python -c`), a program's own output files.

import { statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type ExtensionFactory, isToolCallEventType, type ToolCallEvent } from "@mariozechner/pi-coding-agent";
import { commandWords, findWrites, SHELLS, type Target, targetsOf, xargsWriter } from "./bash-targets.js";
import { type Token, tokenize, type Word } from "./bash-words.js";
import { realPathOfNearest } from "./real-path.js";

export interface WriteRoots {
	/** Folders the stage may write in, anything below them included. */
	roots: readonly string[];
	/** Names the stage in messages, as `stage "<label>"`. */
	label: string;
}

/** Write targets that are not files. */
const DEVICES = new Set(["/dev/null", "/dev/stdout", "/dev/stderr"]);

/** undefined when writing `path` (relative to cwd) lands inside a root, else the reason (path as given, where it
 * resolves, the roots). Symbolic links on the way are followed, so is a dangling one at the end. */
export function writeProblem(path: string, cwd: string, roots: WriteRoots): string | undefined {
	if (DEVICES.has(resolve(cwd, path))) return undefined;
	const landing = realPathOfNearest(resolve(cwd, path));
	return isInside(landing, roots, cwd) ? undefined : outside(`writing "${path}"`, landing, roots);
}

/** Checks a bash command's write targets: redirections (>, >>, &>, 2>, >|, and fd forms), `tee` files, and the
 * targets of touch, mkdir, rm, rmdir, cp, mv, ln, install, sed -i / perl -i, truncate, dd of=; follows `cd` (and
 * pushd) through `&&`, `;`, `||`, `|`, newlines, subshells, so `cd .. && echo x > f` is caught. A target it cannot
 * resolve statically ($VAR, $(...), backticks, ~user) is refused with a reason saying so. Quotes handled.
 * Returns undefined or the reason. */
export function bashProblem(command: string, cwd: string, roots: WriteRoots): string | undefined {
	return new BashCheck(roots, cwd).script(command, { place: { dirs: [resolve(cwd)] }, pushed: [] });
}

/** A Pi extension factory: blocks `write`/`edit` tool calls (their `path` argument) and `bash` calls (their
 * `command`) with a problem, via the `tool_call` event's `{ block: true, reason }`. */
export function containmentExtension(roots: WriteRoots): ExtensionFactory {
	return (pi) => {
		pi.on("tool_call", (event, ctx) => {
			const reason = toolCallProblem(event, ctx.cwd, roots);
			return reason ? { block: true, reason } : undefined;
		});
	};
}

function toolCallProblem(event: ToolCallEvent, cwd: string, roots: WriteRoots): string | undefined {
	if (isToolCallEventType("write", event) || isToolCallEventType("edit", event)) {
		return typeof event.input.path === "string" ? writeProblem(toolPath(event.input.path), cwd, roots) : undefined;
	}
	if (isToolCallEventType("bash", event)) {
		return typeof event.input.command === "string" ? bashProblem(event.input.command, cwd, roots) : undefined;
	}
	return undefined;
}

/** A path argument as Pi's file tools read it: a leading `@` dropped, odd spaces made plain, `~` and file URLs. */
function toolPath(path: string): string {
	const plain = path.replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, " ").replace(/^@/, "");
	if (plain === "~") return homedir();
	if (plain.startsWith("~/")) return join(homedir(), plain.slice(2));
	return plain.startsWith("file://") ? fileURLToPath(plain) : plain;
}

function isInside(path: string, roots: WriteRoots, cwd: string): boolean {
	return roots.roots.some((root) => {
		const rel = relative(realPathOfNearest(resolve(cwd, root)), path);
		return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
	});
}

function allowed(roots: WriteRoots): string {
	return `the places stage "${roots.label}" may write: ${roots.roots.length > 0 ? roots.roots.join(", ") : "none"}`;
}

function outside(what: string, landing: string, roots: WriteRoots): string {
	return `refused: ${what} (resolves to ${landing}), outside ${allowed(roots)}`;
}

function unchecked(what: string, roots: WriteRoots): string {
	return `refused: ${what}; use literal paths inside ${allowed(roots)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Judging a command: where each command runs and what it would write.

/** Where a command may run: each folder it may be in, and what made it unknown when a `cd` cannot be followed. */
interface Place {
	dirs: readonly string[];
	unknown?: string;
}

/** The shell state that matters here: the place, and the places `pushd` saved. */
interface Shell {
	place: Place;
	pushed: Place[];
}

/** Words at a command's start that are syntax, not the command. */
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "time"]);

class BashCheck {
	constructor(
		private readonly roots: WriteRoots,
		private readonly cwd: string,
	) {}

	/** Checks a script in `shell`, which its `cd`s move. */
	script(src: string, shell: Shell): string | undefined {
		const tokens = tokenize(src);
		const shells = [shell];
		let words: Word[] = [];
		let inTest = false; // inside [[ ... ]], where < and > compare strings
		let casePatterns = false; // reading a case's patterns, up to their ")"
		for (let k = 0; k < tokens.length; k++) {
			const token = tokens[k] as Token;
			const current = shells[shells.length - 1] as Shell;
			if (casePatterns) {
				if (token.kind === "op" ? token.op === ")" : token.kind === "word" && token.word.text === "esac") {
					casePatterns = false;
				}
			} else if (token.kind === "word") {
				if (words.length === 0 && RESERVED.has(token.word.text)) continue;
				words.push(token.word);
				if (words.length === 1 && token.word.text === "[[") inTest = true;
				else if (token.word.text === "]]") inTest = false;
				else if (words.length === 3 && words[0]?.text === "case" && token.word.text === "in") {
					const problem = this.substitutions(words, current);
					if (problem) return problem;
					words = [];
					casePatterns = true;
				}
			} else if (token.kind === "redirect") {
				if (inTest) continue;
				const next = tokens[k + 1];
				if (next?.kind !== "word") continue;
				k++;
				const problem = this.substitutions([next.word], current) ?? this.redirect(token.op, next.word, current);
				if (problem) return problem;
			} else {
				const problem = this.command(words, current);
				if (problem) return problem;
				words = [];
				inTest = false;
				if (token.op === "(") shells.push(copy(current));
				else if (token.op === ")" && shells.length > 1) shells.pop();
				else if (token.op === ";;" || token.op === ";&" || token.op === ";;&") casePatterns = true;
			}
		}
		return this.command(words, shells[shells.length - 1] as Shell);
	}

	private substitutions(words: Word[], shell: Shell): string | undefined {
		for (const word of words) {
			for (const inner of word.substitutions) {
				const problem = this.script(inner, copy(shell));
				if (problem) return problem;
			}
		}
		return undefined;
	}

	private redirect(op: string, target: Word, shell: Shell): string | undefined {
		if (op.startsWith("<") && op !== "<>") return undefined;
		if (op === ">&" && !target.dynamic && /^(\d+-?|-)$/.test(target.text)) return undefined;
		return this.target({ word: target, follow: true }, shell);
	}

	private command(words: Word[], shell: Shell): string | undefined {
		const substitutions = this.substitutions(words, shell);
		if (substitutions) return substitutions;
		const [name, ...args] = commandWords(words);
		if (!name || name.dynamic) return undefined;
		const command = basename(name.text);
		if (command === "cd") shell.place = cd(shell.place, args);
		else if (command === "pushd") pushd(shell, args);
		else if (command === "popd") shell.place = shell.pushed.pop() ?? shell.place;
		else if (command === "eval") return this.evalScript(args, shell);
		else if (SHELLS.has(command)) return this.shellScript(args, shell);
		else if (command === "xargs") return this.xargs(args);
		else if (command === "find") return this.find(args, shell);
		else {
			for (const target of targetsOf(command, args)) {
				const problem = this.target(target, shell);
				if (problem) return problem;
			}
		}
		return undefined;
	}

	private target({ word, follow }: Target, shell: Shell): string | undefined {
		const { text } = word;
		if (word.dynamic) {
			return unchecked(
				`bash would write to ${word.raw} (${word.dynamic} is only known when the command runs)`,
				this.roots,
			);
		}
		if (word.glob && mayMatchDotDot(text)) {
			return unchecked(`bash would write to ${word.raw}, a pattern that can match ".."`, this.roots);
		}
		if (!isAbsolute(text) && shell.place.unknown) {
			const after = `after ${shell.place.unknown}, a folder only known when the command runs`;
			return unchecked(`bash would write "${text}" ${after}`, this.roots);
		}
		for (const dir of isAbsolute(text) ? ["/"] : shell.place.dirs) {
			if (DEVICES.has(resolve(dir, text))) continue;
			const landing = landingOf(dir, text, follow || text.endsWith("/"));
			if (!isInside(landing, this.roots, this.cwd))
				return outside(`bash would write "${text}"`, landing, this.roots);
		}
		return undefined;
	}

	/** `bash -c 'script'`: the script is checked as if typed here (in a subshell). A script file is not read. */
	private shellScript(args: Word[], shell: Shell): string | undefined {
		let inline = false;
		for (let j = 0; j < args.length; j++) {
			const arg = args[j] as Word;
			if (/^[-+]o$/.test(arg.text)) j++;
			else if (/^[-+][A-Za-z]+$/.test(arg.text)) inline ||= arg.text.includes("c");
			else if (!arg.text.startsWith("--")) {
				if (!inline) return undefined;
				if (arg.dynamic) return this.unknownScript(`${arg.raw}`);
				return this.script(arg.text, copy(shell));
			}
		}
		return undefined;
	}

	private evalScript(args: Word[], shell: Shell): string | undefined {
		const dynamic = args.find((arg) => arg.dynamic);
		if (dynamic) return this.unknownScript(`eval ${dynamic.raw}`);
		return this.script(args.map((arg) => arg.text).join(" "), shell);
	}

	private unknownScript(what: string): string {
		return unchecked(`bash would run a script only known when the command runs (${what})`, this.roots);
	}

	/** `xargs rm`: the names come from its input, so a writing command under xargs cannot be checked. */
	private xargs(args: Word[]): string | undefined {
		const command = xargsWriter(args);
		if (command === undefined) return undefined;
		const what = `bash would run ${command} on names from xargs' input, which are only known when the command runs`;
		return unchecked(what, this.roots);
	}

	/** `find <paths> -delete` or `-exec rm ...` removes below its start paths; `-fprint <file>` writes a file. */
	private find(args: Word[], shell: Shell): string | undefined {
		const { targets, runs } = findWrites(args);
		for (const run of runs) {
			// Its literal targets too (`-exec cp {} ../out \;`).
			const problem = this.command(run, copy(shell));
			if (problem) return problem;
		}
		for (const target of targets) {
			const problem = this.target(target, shell);
			if (problem) return problem;
		}
		return undefined;
	}
}

function copy(shell: Shell): Shell {
	return { place: shell.place, pushed: [...shell.pushed] };
}

/** Where `cd` goes. A folder that does not exist yet (made earlier in the command, or a cd that fails) keeps the
 * old place possible too; a folder only known at run time makes the place unknown. */
function cd(place: Place, args: Word[]): Place {
	const to = args.find((arg) => !/^-[LPe@]+$/.test(arg.text) && arg.text !== "--");
	if (!to) return moveTo(place, homedir());
	if (to.dynamic || to.text === "-") return { dirs: place.dirs, unknown: `cd ${to.raw}` };
	return moveTo(place, to.text);
}

function moveTo(place: Place, to: string): Place {
	const next = isAbsolute(to) ? [resolve(to)] : place.dirs.map((dir) => resolve(dir, to));
	const certain = next.every(isDirectory);
	const dirs = [...new Set(certain ? next : [...place.dirs, ...next])];
	const unknown = certain && isAbsolute(to) ? undefined : place.unknown;
	return unknown ? { dirs, unknown } : { dirs };
}

function pushd(shell: Shell, args: Word[]): void {
	const to = args.find((arg) => !arg.text.startsWith("-"));
	if (!to) {
		const top = shell.pushed.pop();
		if (top) [shell.place, shell.pushed] = [top, [...shell.pushed, shell.place]];
		return;
	}
	shell.pushed.push(shell.place);
	shell.place = /^[+-]\d+$/.test(to.text) ? { dirs: [], unknown: `pushd ${to.raw}` } : cd(shell.place, [to]);
}

function isDirectory(path: string): boolean {
	return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** Where writing `path` from `dir` lands as the kernel resolves it: `..` after a link leaves the link's target. */
function landingOf(dir: string, path: string, followLast: boolean): string {
	let at = isAbsolute(path) ? "/" : realPathOfNearest(dir);
	for (const segment of path.split("/")) {
		if (segment === "" || segment === ".") continue;
		at = segment === ".." ? dirname(realPathOfNearest(at)) : join(at, segment);
	}
	return followLast ? realPathOfNearest(at) : join(realPathOfNearest(dirname(at)), basename(at));
}

/** Whether a pattern segment could match `..` (only one starting with a literal dot can). */
function mayMatchDotDot(path: string): boolean {
	return path
		.split("/")
		.some((segment) => segment.startsWith(".") && /[*?[]/.test(segment) && globMatchesDotDot(segment));
}

function globMatchesDotDot(segment: string): boolean {
	let pattern = "";
	for (let c = 0; c < segment.length; c++) {
		const char = segment[c] as string;
		const close = char === "[" ? segment.indexOf("]", c + 2) : -1;
		if (char === "*") pattern += ".*";
		else if (char === "?") pattern += ".";
		else if (close > 0) {
			pattern += `[${segment
				.slice(c + 1, close)
				.replace(/^!/, "^")
				.replace(/\\/g, "\\\\")}]`;
			c = close;
		} else pattern += char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
	}
	return new RegExp(`^${pattern}$`).test("..");
}
