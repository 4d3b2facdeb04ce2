// The scripted answers of the review-change builtin for the real `pi` CLI tests (createPiSandbox): the scout
// answers text; each reviewer submits structured findings (correctness one with evidence and one without), the
// synthesis submits a summary with blockers and suggestions, and both answer text once their submission was
// taken; any other stage, or the main session, answers "answer of <stage>". REVIEW_OUTPUTS is what the run's
// outputs are then.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPiSandbox, type PiSandbox } from "./pi-cli.js";

const BLOCKER = {
	severity: "blocker",
	file: "src/a.ts",
	line: 3,
	evidence: "a.ts:3 returns null",
	suggestion: "Guard",
};
const NIT = { severity: "nit", file: "src/b.ts", line: 0, evidence: "b.ts: no test", suggestion: "Add a test" };
/** No evidence: code drops it before the synthesis. */
const HUNCH = { severity: "major", file: "src/c.ts", line: 1, evidence: "", suggestion: "Look at c" };

const SUBMITTED = {
	correctness: { findings: [BLOCKER, HUNCH] },
	maintainability: { findings: [NIT] },
	synthesis: {
		summary: "answer of synthesis",
		blockers: [{ reviewer: "correctness", ...BLOCKER }],
		suggestions: [{ reviewer: "maintainability", ...NIT }],
	},
};

/** The outputs of a review-change run answered by REVIEW_ANSWERS. */
export const REVIEW_OUTPUTS = {
	result: SUBMITTED.synthesis.summary,
	blockers: SUBMITTED.synthesis.blockers,
	suggestions: SUBMITTED.synthesis.suggestions,
	dropped: 1,
};

/** Source of a script module; with `holdScoutUntil`, the scout waits until that file exists. */
export function reviewAnswers(options: { holdScoutUntil?: string } = {}): string {
	const hold = options.holdScoutUntil
		? `if (r.stage === "scout") while (!existsSync(${JSON.stringify(options.holdScoutUntil)})) await new Promise((done) => setTimeout(done, 10));`
		: "";
	return `import { existsSync } from "node:fs";
const submitted = ${JSON.stringify(SUBMITTED)};
export const script = async (r) => {
	${hold}
	const result = submitted[r.stage];
	if (result && !r.afterToolResult) return { toolCalls: [{ name: "submit_result", arguments: result }] };
	return "answer of " + r.stage;
};
`;
}

/** Answers every review-change stage at once. */
export const REVIEW_ANSWERS = reviewAnswers();

/** A sandbox answering review-change whose scout holds until the test creates the file `gate`, so a running
 * run can be observed (createGatedPiSandbox, with review answers). */
export function createGatedReviewSandbox(): PiSandbox & { gate: string } {
	const sandbox = createPiSandbox("");
	const gate = join(sandbox.root, "gate");
	writeFileSync(join(sandbox.root, "script.mjs"), reviewAnswers({ holdScoutUntil: gate }));
	return { ...sandbox, gate };
}
