// The Slack webhook stand-in lives in the test kit (test/support/slack-receiver.ts).
export { startReceiver, type Received, type Receiver } from "../support/slack-receiver.js";
