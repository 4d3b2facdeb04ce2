// Builtin: scout a change, review it in parallel for correctness and maintainability, then synthesize.
// The scout's map travels as a file (file-only), so the reviewers start with fresh, small contexts, each optionally
// on a model of its own. Reviewers submit structured findings (severity, file, line, evidence, suggestion); code,
// not a model, drops the ones without evidence, tags the rest with their reviewer and hands them to the synthesis
// as findings.json (a recorded ctx.tool call). The synthesis separates blockers from suggestions, and code drops
// again whatever it returns without evidence, so no model can add an unevidenced finding to the outputs.

import { workflow } from "pi-workflows";
import { Type } from "typebox";
import {
	FINDINGS_FILE,
	type Finding,
	keepEvidenced,
	ReviewedFinding,
	type Reviewer,
	ReviewerFindings,
	Synthesis,
	tagFinding,
	writeFindingsFile,
} from "./lib/review-findings.js";

const FOCUS: Record<Reviewer, string> = {
	correctness: "correctness: bugs, edge cases, broken contracts",
	maintainability: "maintainability: naming, structure, duplication, tests",
};

const SUBMIT = [
	"Check each finding yourself, from what you can read and run: assume nothing you did not see.",
	"Submit every finding with its severity (blocker only for what must be fixed before it ships), the file, the line (0 for the whole file), the evidence you saw (quoted code, command output) and a suggestion.",
	"A finding without evidence is dropped. Submit an empty list when you find nothing.",
].join(" ");

export default workflow({
	name: "review-change",
	description:
		"Scout a change, review it in parallel (correctness, maintainability) with structured findings, synthesize blockers and suggestions",
	inputs: {
		target: Type.String({ minLength: 1, description: "What to review: a diff, a branch or range, PR text, a path" }),
		reviewerModel: Type.Optional(
			Type.String({ description: "Model for the correctness reviewer (provider/id[:level])" }),
		),
		maintainabilityModel: Type.Optional(
			Type.String({ description: "Model for the maintainability reviewer (provider/id[:level])" }),
		),
	},
	outputs: {
		result: Type.String({ description: "The synthesis's summary: the verdict, most important first" }),
		blockers: Type.Array(ReviewedFinding, { description: "Findings that must be fixed, with evidence" }),
		suggestions: Type.Array(ReviewedFinding, { description: "Findings worth doing, with evidence" }),
		dropped: Type.Integer({ minimum: 0, description: "Findings left out for lacking evidence (or a file)" }),
	},
	run: async (ctx) => {
		const target = ctx.inputs.target;
		await ctx.task("scout", {
			prompt: `Map the context of ${target}: the files it touches, what they do, and the risks to check.`,
			output: "scout.md",
			outputMode: "file-only",
			tools: ["read", "bash"],
		});
		const models: Record<Reviewer, string | undefined> = {
			correctness: ctx.inputs.reviewerModel,
			maintainability: ctx.inputs.maintainabilityModel,
		};
		const reviewers: Reviewer[] = ["correctness", "maintainability"];
		const reviews = await ctx.parallel(
			reviewers.map((reviewer) => {
				const model = models[reviewer];
				return {
					name: reviewer,
					prompt: `Review ${target} for ${FOCUS[reviewer]}.\n\n${SUBMIT}`,
					context: "fresh" as const,
					reads: ["scout.md"],
					tools: ["read", "bash"],
					schema: ReviewerFindings,
					...(model ? { model } : {}),
				};
			}),
			{ concurrency: 2 },
		);
		// The stage names are the reviewers', and each result was checked against ReviewerFindings.
		const submitted = reviews.flatMap((review) =>
			(review.structured as { findings: Finding[] }).findings.map((finding) =>
				tagFinding(review.name as Reviewer, finding),
			),
		);
		const reviewed = keepEvidenced(submitted);
		const findingsFile = await ctx.tool(
			"findings",
			{ findings: reviewed.kept },
			(args) => writeFindingsFile(ctx.runDir, args.findings),
			{ idempotent: true },
		);

		const synthesis = await ctx.task("synthesis", {
			prompt: [
				`Synthesize the review of ${target} into one verdict.`,
				`${FINDINGS_FILE} holds the reviewers' findings that carry evidence (${reviewed.kept.length}; ${reviewed.dropped} without evidence were left out).`,
				"Merge duplicates, and put each finding either in blockers (it must be fixed before the change ships) or in suggestions, keeping its reviewer, file, line and evidence. Add nothing the findings do not show. Submit a short summary of the verdict with both lists.",
			].join("\n\n"),
			reads: [findingsFile],
			tools: ["read"],
			schema: Synthesis,
		});
		const blockers = keepEvidenced(synthesis.structured.blockers.map(retag));
		const suggestions = keepEvidenced(synthesis.structured.suggestions.map(retag));
		return {
			result: synthesis.structured.summary,
			blockers: blockers.kept,
			suggestions: suggestions.kept,
			dropped: reviewed.dropped + blockers.dropped + suggestions.dropped,
		};
	},
});

function retag(finding: ReviewedFinding): ReviewedFinding {
	return tagFinding(finding.reviewer, finding);
}
