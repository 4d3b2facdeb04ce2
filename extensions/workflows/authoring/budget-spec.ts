// The budget a workflow, a stage, a one-off spec or a command line gives: which keys exist, which values they
// take, and the short text form `/workflow run x --budget cost=2,tokens=500k` uses. Problems come back as data,
// each naming the field, what was expected and what arrived.

import type { StageBudget, WorkflowBudget } from "./types.js";

type BudgetKey = keyof WorkflowBudget;

const COUNTS = ["maxStages", "maxTurns", "maxToolCalls", "maxTokens"] as const;
export const BUDGET_KEYS: readonly BudgetKey[] = [...COUNTS, "maxCostUsd", "maxDurationMs", "warnAtPercent"];
export const STAGE_BUDGET_KEYS: readonly (keyof StageBudget)[] = [
	"maxTurns",
	"maxToolCalls",
	"maxTokens",
	"maxCostUsd",
	"maxDurationMs",
];

/** Keys of the text form, and the budget keys they stand for. */
const TEXT_KEYS: Record<string, BudgetKey> = {
	stages: "maxStages",
	turns: "maxTurns",
	tools: "maxToolCalls",
	toolCalls: "maxToolCalls",
	tokens: "maxTokens",
	cost: "maxCostUsd",
	duration: "maxDurationMs",
	time: "maxDurationMs",
	warn: "warnAtPercent",
	...Object.fromEntries(BUDGET_KEYS.map((key) => [key, key])),
};

/** Every problem of a budget object; `where` names it (`budget`, `steps[2].budget`). */
export function budgetProblems(value: unknown, where: string, keys: readonly string[] = BUDGET_KEYS): string[] {
	if (value === undefined) return [];
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		return [
			`${where}: expected an object of limits ({ ${keys.slice(0, 2).join(", ")}, ... }), got ${describe(value)}`,
		];
	}
	const problems: string[] = [];
	for (const [key, limit] of Object.entries(value)) {
		if (!keys.includes(key)) {
			const hint = key === "maxCost" ? " (it was renamed maxCostUsd)" : "";
			problems.push(`${where}.${key}: unknown limit${hint}; expected one of ${keys.join(", ")}`);
			continue;
		}
		const problem = limitProblem(key as BudgetKey, limit);
		if (problem) problems.push(`${where}.${key}: ${problem}, got ${describe(limit)}`);
	}
	return problems;
}

function limitProblem(key: BudgetKey, limit: unknown): string | undefined {
	if (typeof limit !== "number" || !Number.isFinite(limit)) return "expected a number";
	if (key === "warnAtPercent")
		return limit > 0 && limit < 100 ? undefined : "expected a percentage above 0 and below 100";
	if ((COUNTS as readonly string[]).includes(key) || key === "maxDurationMs") {
		return Number.isInteger(limit) && limit > 0 ? undefined : "expected a whole number above 0";
	}
	return limit > 0 ? undefined : "expected a number above 0";
}

/**
 * Reads `cost=2,tokens=500k,stages=50,turns=80,tools=300,duration=30m,warn=80` (the full key names work too).
 * Counts and tokens take `k` and `m` (thousand, million); durations `ms`, `s`, `m`, `h` (a bare number is ms).
 */
export function parseBudgetText(text: string): { ok: true; budget: WorkflowBudget } | { ok: false; error: string } {
	const budget: Record<string, number> = {};
	const problems: string[] = [];
	for (const part of text
		.split(",")
		.map((piece) => piece.trim())
		.filter(Boolean)) {
		const match = /^([A-Za-z]+)\s*=\s*(\S+)$/.exec(part);
		const key = match ? TEXT_KEYS[match[1] as string] : undefined;
		if (!match || !key) {
			problems.push(`"${part}": expected key=value with a key of ${Object.keys(TEXT_KEYS).slice(0, 9).join(", ")}`);
			continue;
		}
		const value = key === "maxDurationMs" ? parseDuration(match[2] as string) : parseAmount(match[2] as string);
		if (value === undefined) {
			const form = key === "maxDurationMs" ? "a duration like 90s, 30m or 2h" : "a number like 2, 0.5, 500k or 1m";
			problems.push(`"${part}": expected ${form}`);
			continue;
		}
		budget[key] = value;
	}
	if (problems.length === 0 && Object.keys(budget).length === 0)
		problems.push("expected at least one limit, got none");
	problems.push(...budgetProblems(budget, "budget"));
	if (problems.length > 0) return { ok: false, error: `--budget ${JSON.stringify(text)}: ${problems.join("; ")}` };
	return { ok: true, budget: budget as WorkflowBudget };
}

function parseAmount(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text);
	if (!match) return undefined;
	const scale = { "": 1, k: 1_000, m: 1_000_000 }[(match[2] as string).toLowerCase()] ?? 1;
	return Math.round(Number(match[1]) * scale * 1e6) / 1e6;
}

function parseDuration(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/i.exec(text);
	if (!match) return undefined;
	const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "ms").toLowerCase() as "ms"] ?? 1;
	return Math.round(Number(match[1]) * scale);
}

function describe(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "an array";
	if (typeof value === "number" || typeof value === "boolean") return String(value);
	return typeof value === "string" ? `string ${JSON.stringify(value)}` : `${typeof value} ${String(value)}`;
}
