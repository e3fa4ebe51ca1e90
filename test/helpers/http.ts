/** A response body as JSON, typed loosely: tests assert its exact shape themselves. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions inspect arbitrary JSON
export const json = (response: Response): Promise<any> => response.json();
