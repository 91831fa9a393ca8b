/** The live transports a subscription runs over (also the open-subscriptions gauge's label). */
export type Transport = 'sse' | 'multipart' | 'ws';
