// Parses `/workflow` arguments: words with "double" or 'single' quotes, `--budget <limits>`, flags, and `run` inputs
// given as key=value pairs (values parsed as JSON when they parse, else kept as strings) or one JSON object.

import type { TProperties, TSchema } from "typebox";
import { parseBudgetText } from "../authoring/budget-spec.js";
import type { WorkflowBudget } from "../authoring/types.js";

export function splitWords(text: string): string[] {
	const words: string[] = [];
	let current = "";
	let quote: string | undefined;
	let inWord = false;
	// Inside [...] or {...} (a JSON value) quotes and spaces are kept as they are.
	let depth = 0;
	for (const char of text) {
		if (quote) {
			if (char === quote) quote = undefined;
			else current += char;
			continue;
		}
		if (depth > 0) {
			if (char === "[" || char === "{") depth++;
			if (char === "]" || char === "}") depth--;
			current += char;
		} else if (char === '"' || char === "'") {
			quote = char;
			inWord = true;
		} else if (/\s/.test(char)) {
			if (inWord) words.push(current);
			current = "";
			inWord = false;
		} else {
			if (char === "[" || char === "{") depth++;
			current += char;
			inWord = true;
		}
	}
	if (inWord) words.push(current);
	return words;
}

export type ParsedInputs = { ok: true; inputs: Record<string, unknown> } | { ok: false; error: string };

/**
 * Inputs after the workflow name: a JSON object, or key=value words. With the workflow's declared inputs, a value
 * for an input that takes a string stays the text typed (`target=12` is "12"; `target='"12"'` too), others are
 * read as JSON when they parse. An empty value, a key given twice and a number JSON cannot hold are refused.
 */
export function parseInputs(rest: string, declared?: TProperties): ParsedInputs {
	const trimmed = rest.trim();
	if (trimmed === "") return { ok: true, inputs: {} };
	if (trimmed.startsWith("{")) {
		try {
			const value = JSON.parse(trimmed);
			if (typeof value === "object" && value !== null && !Array.isArray(value)) return { ok: true, inputs: value };
		} catch (error) {
			return { ok: false, error: `inputs: expected a JSON object, got invalid JSON (${(error as Error).message})` };
		}
		return { ok: false, error: "inputs: expected a JSON object" };
	}
	const inputs: Record<string, unknown> = {};
	for (const word of splitWords(trimmed)) {
		const eq = word.indexOf("=");
		if (eq <= 0) return { ok: false, error: `inputs: expected key=value, got "${word}"` };
		const key = word.slice(0, eq);
		const text = word.slice(eq + 1);
		if (key in inputs) {
			return { ok: false, error: `input "${key}" is given twice; give it once` };
		}
		if (text === "") {
			return {
				ok: false,
				error: `input "${key}": nothing after "="; give ${key}=<value> (an empty string only as JSON: {"${key}": ""})`,
			};
		}
		const value = parseValue(text, declared?.[key]);
		if (typeof value === "number" && !Number.isFinite(value)) {
			return { ok: false, error: `input "${key}": ${text} is beyond the numbers a run can hold` };
		}
		inputs[key] = value;
	}
	return { ok: true, inputs };
}

function parseValue(text: string, schema: TSchema | undefined): unknown {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return text;
	}
	// An input that takes a string gets the text, unless the text is itself a JSON string.
	if (schema && typeof parsed !== "string" && takesString(schema)) return text;
	return parsed;
}

function takesString(schema: TSchema): boolean {
	const s = schema as { type?: unknown; anyOf?: TSchema[]; const?: unknown; enum?: unknown[] };
	if (s.type === "string" || (Array.isArray(s.type) && s.type.includes("string"))) return true;
	if (typeof s.const === "string" || s.enum?.some((value) => typeof value === "string")) return true;
	return Array.isArray(s.anyOf) && s.anyOf.some(takesString);
}

export type TakenBudget = { ok: true; budget?: WorkflowBudget; rest: string } | { ok: false; error: string };

/** Takes `--budget <limits>` (or `--budget=<limits>`) out of the arguments: the limits, and the text without it. */
export function takeBudget(text: string): TakenBudget {
	const match = /(^|\s)--budget(?:=|\s+)("[^"]*"|'[^']*'|\S+)?/.exec(text);
	if (!match) {
		if (/(^|\s)--budget\b/.test(text))
			return { ok: false, error: "--budget: expected limits like cost=2,tokens=500k" };
		return { ok: true, rest: text };
	}
	const raw = match[2];
	if (!raw || raw.startsWith("--"))
		return { ok: false, error: "--budget: expected limits like cost=2,tokens=500k, got nothing" };
	const parsed = parseBudgetText(raw.replace(/^(["'])(.*)\1$/, "$2"));
	if (!parsed.ok) return parsed;
	const before = text.slice(0, match.index).trimEnd();
	const after = text.slice(match.index + match[0].length).trimStart();
	const rest = before && after ? `${before} ${after}` : before || after;
	return { ok: true, budget: parsed.budget, rest };
}

/** Takes `--allow-tools` (all) or `--allow-tools=a,b` (those) out of the arguments. */
export function takeListFlag(text: string, flag: string): { present: boolean; values?: string[]; rest: string } {
	const pattern = new RegExp(`(^|\\s)${flag.replace(/[-]/g, "\\-")}(?:=(\\S+))?(?=\\s|$)`);
	const match = pattern.exec(text);
	if (!match) return { present: false, rest: text };
	const rest = text.replace(pattern, " ").replace(/\s+/g, " ").trim();
	const values = match[2]?.split(",").filter(Boolean);
	return { present: true, ...(values ? { values } : {}), rest };
}

/** Takes a bare flag (`--keep-worktrees`) out of the arguments: whether it was there, and the text without it. */
export function takeFlag(text: string, flag: string): { present: boolean; rest: string } {
	const pattern = new RegExp(`(^|\\s)${flag.replace(/[-]/g, "\\-")}(?=\\s|$)`);
	if (!pattern.test(text)) return { present: false, rest: text };
	return { present: true, rest: text.replace(pattern, " ").replace(/\s+/g, " ").trim() };
}
