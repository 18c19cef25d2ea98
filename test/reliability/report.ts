/** The reliability suites' figures, printed as one line each so CI logs show them. */
export function report(suite: string, figures: Record<string, number>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  console.log(`reliability ${suite}: ${text}`)
}
