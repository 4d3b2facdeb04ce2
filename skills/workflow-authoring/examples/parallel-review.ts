// Review a target for three concerns side by side, each reviewer submitting structured findings, then synthesize
// one verdict. Function branches keep each result typed by its schema; the synthesis gets the findings as text.

import { workflow } from "pi-workflows";
import { Type } from "typebox";

const Finding = Type.Object({
	severity: Type.Enum(["high", "medium", "low"]),
	file: Type.String({ description: "Path of the file, relative to the project" }),
	evidence: Type.String({ description: "The code or behaviour that shows the problem" }),
});
const Review = Type.Object({ findings: Type.Array(Finding) });
const RANK = { high: 0, medium: 1, low: 2 };

/** A reviewer's stage options: read-only tools, its findings submitted as a `Review`. */
function reviewer(concern: string, target: string) {
	return {
		prompt: `Review ${target} for ${concern}. Submit every finding with its severity, file and evidence.`,
		tools: ["read", "grep", "find", "ls"],
		schema: Review,
	};
}

export default workflow({
	name: "parallel-review",
	description: "Review a target for correctness, security and tests in parallel, then synthesize one verdict",
	inputs: { target: Type.String({ description: "A path, a branch or a commit range" }) },
	outputs: {
		findings: Type.Array(Finding),
		high: Type.Integer({ description: "Findings of high severity" }),
		verdict: Type.String(),
	},
	run: async (ctx) => {
		const { target } = ctx.inputs;
		const reviews = await ctx.parallel(
			[
				(branch) => branch.task("correctness", reviewer("correctness", target)),
				(branch) => branch.task("security", reviewer("security", target)),
				(branch) => branch.task("tests", reviewer("missing or weak tests", target)),
			],
			{ concurrency: 3 },
		);
		const findings = reviews
			.flatMap((review) => review.structured.findings)
			.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
		const synthesis = await ctx.task("synthesis", {
			prompt: `Write one verdict on ${target}: what must be fixed before it merges, and what can wait.`,
			// `previous` carries each result's text, not `structured`: hand the findings over as text.
			previous: findings.map((f) => `- [${f.severity}] ${f.file}: ${f.evidence}`).join("\n") || "No findings.",
			tools: [],
		});
		return { findings, high: findings.filter((f) => f.severity === "high").length, verdict: synthesis.text };
	},
});
