// What the common writing commands write, read from their words: which word is the command (assignments and
// wrappers such as sudo, env, timeout dropped), their options parsed GNU style, and per command the paths it writes:
// tee, touch, mkdir, truncate, rm, rmdir, unlink, cp, mv, ln, install, sed -i, perl -i, dd of=, and what find and
// xargs make of the commands they run. Where those paths land, and whether that is allowed, is containment.ts'.

import { basename } from "node:path";
import type { Word } from "./bash-words.js";

/** A path a command writes; `follow`: a link there is written through (not for rm, which removes the link). */
export interface Target {
	word: Word;
	follow: boolean;
}

export const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh"]);
/** Commands that run the command after their options, and their short options that take a value. */
const WRAPPERS: Record<string, string> = {
	sudo: "CDghprTtUu",
	doas: "uC",
	env: "uCS",
	nice: "n",
	nohup: "",
	timeout: "sk",
	stdbuf: "ioe",
	command: "",
	builtin: "",
	exec: "a",
};
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

/** The words from the command name on: assignments before it and wrappers (sudo, env, nice, ...) dropped. */
export function commandWords(words: Word[]): Word[] {
	let rest = words;
	for (;;) {
		while (rest[0] && ASSIGNMENT.test(rest[0].text)) rest = rest.slice(1);
		const name = rest[0] && basename(rest[0].text);
		const valued = name === undefined ? undefined : WRAPPERS[name];
		if (valued === undefined) return rest;
		rest = parse(rest.slice(1), { valued, stopAtOperand: true }).rest;
		if (name === "timeout") rest = rest.slice(1);
	}
}

interface ParseSpec {
	/** Short options that take a value (attached or the next word). */
	valued: string;
	/** Short options whose value, if any, is attached (sed's `-i.bak`, perl's `-i`, `-0777`). */
	attached?: string;
	/** Long options that take the next word as value when not given `--name=value`. */
	valuedLong?: readonly string[];
	/** Options end at the first operand (a wrapper, xargs); else options may follow operands (GNU style). */
	stopAtOperand?: boolean;
}

interface Parsed {
	operands: Word[];
	options: Array<{ name: string; value?: Word }>;
	/** With `stopAtOperand`: the words from the first operand on. */
	rest: Word[];
}

function parse(words: Word[], spec: ParseSpec): Parsed {
	const parsed: Parsed = { operands: [], options: [], rest: [] };
	for (let j = 0; j < words.length; j++) {
		const word = words[j] as Word;
		const { text } = word;
		if (text === "--" || !text.startsWith("-") || text === "-") {
			const from = text === "--" ? j + 1 : j;
			if (spec.stopAtOperand) {
				parsed.rest = words.slice(from);
				return parsed;
			}
			if (text === "--") {
				parsed.operands.push(...words.slice(from));
				return parsed;
			}
			parsed.operands.push(word);
		} else if (text.startsWith("--")) {
			const [name = "", value] = splitOnce(text.slice(2), "=");
			if (value !== undefined) parsed.options.push({ name, value: { ...word, text: value } });
			else if (spec.valuedLong?.includes(name)) parsed.options.push({ name, value: words[++j] });
			else parsed.options.push({ name });
		} else {
			for (let c = 1; c < text.length; c++) {
				const name = text[c] as string;
				const attached = text.slice(c + 1);
				if (spec.valued.includes(name)) {
					parsed.options.push({ name, value: attached ? { ...word, text: attached } : words[++j] });
					break;
				}
				if (spec.attached?.includes(name)) {
					parsed.options.push({ name, value: { ...word, text: attached } });
					break;
				}
				parsed.options.push({ name });
			}
		}
	}
	return parsed;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
	const at = text.indexOf(separator);
	return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

const follow = (word: Word): Target => ({ word, follow: true });
const removal = (word: Word): Target => ({ word, follow: false });

/** What a command writes, from its arguments (commands not listed write nothing known here). */
export function targetsOf(command: string, args: Word[]): Target[] {
	switch (command) {
		case "tee":
			return parse(args, { valued: "" }).operands.map(follow);
		case "touch":
			return parse(args, { valued: "drt", valuedLong: ["date", "reference"] }).operands.map(follow);
		case "mkdir":
			return parse(args, { valued: "m", valuedLong: ["mode", "context"] }).operands.map(follow);
		case "truncate":
			return parse(args, { valued: "rs", valuedLong: ["reference", "size"] }).operands.map(follow);
		case "rm":
		case "rmdir":
		case "unlink":
			return parse(args, { valued: "" }).operands.map(removal);
		case "cp":
		case "mv":
		case "ln":
		case "install":
			return copyTargets(command, args);
		case "sed":
		case "perl":
			return (inPlaceFiles(command, args) ?? []).map(follow);
		case "dd":
			return args
				.filter((arg) => arg.text.startsWith("of="))
				.map((arg) => follow({ ...arg, text: arg.text.slice(3) }));
		default:
			return [];
	}
}

/** cp, mv, ln, install: the destination (or `-t` folder); mv also removes its sources; `install -d` makes folders. */
function copyTargets(command: string, args: Word[]): Target[] {
	const valuedLong = ["target-directory", "suffix", "mode", "owner", "group", "strip-program"];
	const { operands, options } = parse(args, { valued: command === "install" ? "tSmog" : "tS", valuedLong });
	const folder = options.find((option) => option.name === "t" || option.name === "target-directory")?.value;
	const sources = (words: Word[]) => (command === "mv" ? words.map(removal) : []);
	if (command === "install" && options.some((option) => option.name === "d" || option.name === "directory")) {
		return operands.map(follow);
	}
	if (folder) return [follow(folder), ...sources(operands)];
	const last = operands.at(-1);
	if (!last) return [];
	// `ln -s <target>` alone makes the link in the current folder.
	if (operands.length === 1) return command === "ln" ? [follow({ ...last, text: basename(last.text) })] : [];
	return [follow(last), ...sources(operands.slice(0, -1))];
}

/** The files `sed -i` or `perl -i` edits in place; undefined without -i. */
function inPlaceFiles(command: string, args: Word[]): Word[] | undefined {
	const { operands, options } =
		command === "sed"
			? parse(args, { valued: "efl", attached: "i", valuedLong: ["expression", "file", "line-length"] })
			: parse(args, { valued: "eE", attached: "iIMmlFxCdD0" });
	const names = new Set(options.map((option) => option.name));
	if (!names.has("i") && !names.has("in-place")) return undefined;
	const scripted = ["e", "E", "f", "expression", "file"].some((name) => names.has(name));
	return scripted ? operands : operands.slice(1);
}

/** Whether a command writes files it is given (xargs and find -exec hand it names only known at run time). */
function writes(command: string, args: Word[]): boolean {
	if (command === "sed" || command === "perl") return inPlaceFiles(command, args) !== undefined;
	const writers = ["tee", "touch", "mkdir", "truncate", "rm", "rmdir", "unlink", "cp", "mv", "ln", "install", "dd"];
	return writers.includes(command) || SHELLS.has(command);
}

/** What `find <paths> ...` writes: `-fprint <file>` files, and its start paths when it removes below them
 * (`-delete`, or `-exec` of a writing command); `runs`: the commands its -exec runs, for their literal targets. */
export function findWrites(args: Word[]): { targets: Target[]; runs: Word[][] } {
	let j = 0;
	while (args[j] && /^-[HLP]$|^-D$|^-O\d*$/.test(args[j]?.text ?? "")) j += args[j]?.text === "-D" ? 2 : 1;
	const starts: Word[] = [];
	while (args[j] && !/^[-(!]/.test(args[j]?.text ?? "")) starts.push(args[j++] as Word);
	const expression = args.slice(j);
	const targets: Target[] = [];
	const runs: Word[][] = [];
	let removes = false;
	for (let e = 0; e < expression.length; e++) {
		const text = expression[e]?.text;
		if (text === "-delete") removes = true;
		else if (text && /^-f(print0?|printf|ls)$/.test(text) && expression[e + 1]) {
			targets.push({ word: expression[e + 1] as Word, follow: true });
		} else if (text && /^-(exec|execdir|ok|okdir)$/.test(text)) {
			const end = expression.findIndex((word, at) => at > e && (word.text === ";" || word.text === "+"));
			const run = expression.slice(e + 1, end < 0 ? undefined : end);
			const [name, ...rest] = commandWords(run);
			if (name && (name.dynamic || writes(basename(name.text), rest))) removes = true;
			runs.push(run);
		}
	}
	const dot: Word = { text: ".", raw: ".", glob: false, substitutions: [] };
	if (removes) targets.push(...(starts.length > 0 ? starts : [dot]).map((word) => ({ word, follow: false })));
	return { targets, runs };
}

/** The writing command `xargs` would run on the names from its input, if it runs one. */
export function xargsWriter(args: Word[]): string | undefined {
	const valuedLong = ["arg-file", "delimiter", "max-args", "max-lines", "max-procs", "max-chars"];
	const options = parse(args, { valued: "adEILnPs", attached: "eil", valuedLong, stopAtOperand: true });
	const [name, ...rest] = commandWords(options.rest);
	if (!name || !writes(basename(name.text), rest)) return undefined;
	return basename(name.text);
}
