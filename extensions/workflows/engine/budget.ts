// Spending ceilings: checked before every stage starts, so nothing is spent once a ceiling is reached.

import type { Usage, WorkflowBudget } from "../authoring/types.js";

/** Stops the run with status `blocked`; the reason says which ceiling was reached. */
export class BudgetExceededError extends Error {
	override readonly name = "BudgetExceededError";
}

export function checkBudget(budget: WorkflowBudget | undefined, spent: Usage, nextStage: string): void {
	if (!budget) return;
	if (budget.maxCost !== undefined && spent.cost >= budget.maxCost) {
		throw new BudgetExceededError(
			`budget: cost $${spent.cost.toFixed(4)} reached the ceiling of $${budget.maxCost} before stage "${nextStage}" started`,
		);
	}
	if (budget.maxTokens !== undefined && spent.totalTokens >= budget.maxTokens) {
		throw new BudgetExceededError(
			`budget: ${spent.totalTokens} tokens reached the ceiling of ${budget.maxTokens} before stage "${nextStage}" started`,
		);
	}
}
