import type { APIGatewayProxyEvent } from 'aws-lambda';

/** HTTP header names are case-insensitive (RFC 9110 §5.1); API Gateway keeps the sender's case. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
