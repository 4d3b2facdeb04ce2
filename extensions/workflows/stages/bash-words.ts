// Reading a bash command the way bash does before running it, so its writes can be judged (containment.ts):
// words with quotes removed and the parts known only at run time noted ($VAR, $(...), backticks, ~user, {a,b},
// unquoted globs), the commands substitutions run, operators, redirections, comments, line continuations, and
// here-documents, whose bodies are data (only an unquoted delimiter's $(...) and backticks still run).

import { homedir } from "node:os";

/** The tokens of a command text, in order; here-document bodies are skipped. */
export function tokenize(command: string): Token[] {
	return new Lexer(command).tokens();
}

/** One word of a command as bash sees it after quote removal. */
export interface Word {
	/** The text with quotes removed and a leading `~` or `~/` expanded. */
	text: string;
	/** The word as written. */
	raw: string;
	/** The part that is known only when bash runs ($VAR, $(...), ~user, {a,b}), if any. */
	dynamic?: string;
	/** Unquoted `*`, `?` or `[` appear: the text is a pattern. */
	glob: boolean;
	/** Commands its expansion runs: $(...), backticks, <(...), >(...). */
	substitutions: string[];
}

export type Token =
	| { kind: "word"; word: Word }
	/** `&&`, `||`, `;`, `;;`, `;&`, `;;&`, `&`, `|`, `|&`, `(`, `)` and newlines. */
	| { kind: "op"; op: string }
	/** `>`, `>>`, `>|`, `&>`, `&>>`, `>&`, `<>`, `<`, `<<`, `<<-`, `<<<`, `<&`, without the fd number before it. */
	| { kind: "redirect"; op: string };

const OPERATORS = [";;&", "&&", "||", ";;", ";&", "|&", ";", "|", "&", "(", ")"];
const REDIRECT = /&>>|&>|\d*(?:>>|>\||>&|>|<<<|<<-|<<|<>|<&|<)/y;
const WORD_END = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"]);

class Lexer {
	private i = 0;
	/** Here-documents whose bodies start after the next newline; their delimiter words collect what bodies run. */
	private readonly heredocs: Array<{ delimiter: Word; stripTabs: boolean }> = [];

	constructor(private readonly src: string) {}

	tokens(): Token[] {
		const tokens: Token[] = [];
		let delimiterNext: boolean | undefined;
		while (this.i < this.src.length) {
			const c = this.src[this.i];
			if (c === " " || c === "\t") this.i++;
			else if (this.src.startsWith("\\\n", this.i)) this.i += 2;
			else if (c === "\n") {
				tokens.push({ kind: "op", op: "\n" });
				this.i++;
				this.skipHeredocBodies();
			} else if (c === "#") {
				const end = this.src.indexOf("\n", this.i);
				this.i = end < 0 ? this.src.length : end;
			} else {
				const redirect = this.redirect();
				if (redirect) {
					tokens.push({ kind: "redirect", op: redirect });
					if (redirect === "<<" || redirect === "<<-") delimiterNext = redirect === "<<-";
					continue;
				}
				const op = OPERATORS.find((candidate) => this.src.startsWith(candidate, this.i));
				if (op) {
					tokens.push({ kind: "op", op });
					this.i += op.length;
					continue;
				}
				const word = this.word();
				if (delimiterNext !== undefined) this.heredocs.push({ delimiter: word, stripTabs: delimiterNext });
				delimiterNext = undefined;
				tokens.push({ kind: "word", word });
			}
		}
		return tokens;
	}

	private redirect(): string | undefined {
		if (/[<>]/.test(this.src[this.i] ?? "") && this.src[this.i + 1] === "(") return undefined; // <(...) is a word
		REDIRECT.lastIndex = this.i;
		const match = REDIRECT.exec(this.src)?.[0];
		if (!match) return undefined;
		this.i += match.length;
		return match.replace(/^\d+/, "");
	}

	/** A here-document's lines are data, not commands: skipped up to their delimiter line. With an unquoted
	 * delimiter its $(...) and backticks still run: they go to the delimiter word's substitutions. */
	private skipHeredocBodies(): void {
		for (const { delimiter, stripTabs } of this.heredocs.splice(0)) {
			const start = this.i;
			let bodyEnd = this.src.length;
			while (this.i < this.src.length) {
				const end = this.src.indexOf("\n", this.i);
				const line = this.src.slice(this.i, end < 0 ? this.src.length : end);
				const lineStart = this.i;
				this.i = end < 0 ? this.src.length : end + 1;
				if ((stripTabs ? line.replace(/^\t+/, "") : line) === delimiter.text) {
					bodyEnd = lineStart;
					break;
				}
			}
			if (!/['"\\]/.test(delimiter.raw)) new Lexer(this.src.slice(start, bodyEnd)).expansions(delimiter);
		}
	}

	/** Reads text as bash reads a here-document body: only $ expansions and backticks mean something. */
	private expansions(word: Word): void {
		while (this.i < this.src.length) {
			const c = this.src[this.i];
			if (c === "\\") this.i += 2;
			else if (c === "$") this.dollar(word, true);
			else if (c === "`") this.backtick(word);
			else this.i++;
		}
	}

	private word(): Word {
		const start = this.i;
		const word: Word = { text: "", raw: "", glob: false, substitutions: [] };
		let unquoted = "";
		if (/[<>]/.test(this.src[this.i] ?? "")) {
			// A process substitution, <(...) or >(...): the word is a /dev/fd path known only when bash runs.
			this.i += 2;
			word.substitutions.push(this.balanced("(", ")"));
			word.dynamic = `${this.src[start]}(...)`;
			word.raw = this.src.slice(start, this.i);
			return word;
		}
		if (this.src[this.i] === "~") this.tilde(word);
		while (this.i < this.src.length) {
			const c = this.src[this.i] as string;
			if (WORD_END.has(c)) break;
			if (c === "'") {
				const end = this.src.indexOf("'", this.i + 1);
				word.text += this.src.slice(this.i + 1, end < 0 ? undefined : end);
				this.i = end < 0 ? this.src.length : end + 1;
			} else if (c === '"') this.doubleQuoted(word);
			else if (c === "\\") {
				if (this.src[this.i + 1] !== "\n") word.text += this.src[this.i + 1] ?? "";
				this.i += 2;
			} else if (c === "$") this.dollar(word, false);
			else if (c === "`") this.backtick(word);
			else {
				if ("*?[".includes(c)) word.glob = true;
				word.text += c;
				unquoted += c;
				this.i++;
			}
		}
		const brace = /\{[^{}]*(?:,|\.\.)[^{}]*\}/.exec(unquoted)?.[0];
		if (brace) word.dynamic ??= brace;
		word.raw = this.src.slice(start, this.i);
		return word;
	}

	/** `~` and `~/...` are the home folder; `~user`, `~+`, `~-` are known only when bash runs. */
	private tilde(word: Word): void {
		const name = /~([A-Za-z0-9._+-]*)/y;
		name.lastIndex = this.i;
		const match = name.exec(this.src) as RegExpExecArray;
		const after = this.src[this.i + match[0].length];
		if (after !== undefined && after !== "/" && !WORD_END.has(after)) return;
		word.text += match[1] ? match[0] : homedir();
		if (match[1]) word.dynamic ??= match[0];
		this.i += match[0].length;
	}

	private doubleQuoted(word: Word): void {
		this.i++;
		while (this.i < this.src.length && this.src[this.i] !== '"') {
			const c = this.src[this.i] as string;
			if (c === "\\" && '$`"\\\n'.includes(this.src[this.i + 1] ?? "")) {
				if (this.src[this.i + 1] !== "\n") word.text += this.src[this.i + 1];
				this.i += 2;
			} else if (c === "$") this.dollar(word, true);
			else if (c === "`") this.backtick(word);
			else {
				word.text += c;
				this.i++;
			}
		}
		this.i++;
	}

	private dollar(word: Word, quoted: boolean): void {
		const start = this.i;
		const next = this.src[this.i + 1] ?? "";
		if (!quoted && next === "'") {
			this.i += 2;
			word.text += this.ansiQuoted();
			return;
		}
		if (!quoted && next === '"') {
			this.i++;
			this.doubleQuoted(word);
			return;
		}
		if (next === "(") {
			const arithmetic = this.src[this.i + 2] === "(";
			this.i += 2;
			const inner = this.balanced("(", ")");
			if (!arithmetic) word.substitutions.push(inner);
		} else if (next === "{") {
			this.i += 2;
			this.balanced("{", "}");
		} else if (/[A-Za-z_]/.test(next)) {
			this.i += 1 + (/[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.i + 1))?.[0].length ?? 0);
		} else if (/[0-9@*#?$!-]/.test(next)) this.i += 2;
		else {
			word.text += "$";
			this.i++;
			return;
		}
		const expansion = this.src.slice(start, this.i);
		word.text += expansion;
		word.dynamic ??= expansion.startsWith("$(") && !expansion.startsWith("$((") ? "$(...)" : expansion;
	}

	private backtick(word: Word): void {
		let inner = "";
		this.i++;
		while (this.i < this.src.length && this.src[this.i] !== "`") {
			if (this.src[this.i] === "\\" && "$`\\".includes(this.src[this.i + 1] ?? "")) this.i++;
			inner += this.src[this.i];
			this.i++;
		}
		this.i++;
		word.substitutions.push(inner);
		word.text += `\`${inner}\``;
		word.dynamic ??= "`...`";
	}

	/** The text of $'...', its common escapes decoded. */
	private ansiQuoted(): string {
		const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
		let text = "";
		while (this.i < this.src.length && this.src[this.i] !== "'") {
			const c = this.src[this.i] as string;
			const next = this.src[this.i + 1] ?? "";
			if (c === "\\" && next) {
				text += escapes[next] ?? `\\${next}`;
				this.i += 2;
			} else {
				text += c;
				this.i++;
			}
		}
		this.i++;
		return text;
	}

	/** From just after an opening bracket to just after its match (quotes and nesting respected): the inside. */
	private balanced(open: string, close: string): string {
		const start = this.i;
		let depth = 1;
		while (this.i < this.src.length) {
			const c = this.src[this.i] as string;
			if (c === "\\") this.i += 2;
			else if (c === "'") {
				const end = this.src.indexOf("'", this.i + 1);
				this.i = end < 0 ? this.src.length : end + 1;
			} else if (c === '"' || c === "`") {
				this.i++;
				while (this.i < this.src.length && this.src[this.i] !== c) this.i += this.src[this.i] === "\\" ? 2 : 1;
				this.i++;
			} else {
				if (c === open) depth++;
				else if (c === close && --depth === 0) {
					this.i++;
					return this.src.slice(start, this.i - 1);
				}
				this.i++;
			}
		}
		return this.src.slice(start);
	}
}
