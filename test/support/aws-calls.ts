// Watching and stalling the AWS calls of an in-process worker's own SDK clients, through their
// middleware stacks (no proxy needed): a record of every call (to show that no changing call
// reached moto), and a gate that holds one operation's first call until the test releases it.
import type { AwsClients } from "@gdr/core/aws/clients";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";

export interface CallLog {
  /** Every command the worker sent, as `<service>:<Command name without "Command">`. */
  calls: string[];
  /** Commands that change something (anything but Describe/Get/List reads). */
  changing(): string[];
  install(clients: AwsClients): void;
}

const READ = /^(Describe|Get|List)/;

export function createCallLog(): CallLog {
  const calls: string[] = [];
  let n = 0;
  function record<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>, service: string): void {
    const middleware: InitializeMiddleware<Input, Output> = (next, context) => (args) => {
      calls.push(`${service}:${String(context.commandName).replace(/Command$/, "")}`);
      return next(args);
    };
    client.middlewareStack.add(middleware, { step: "initialize", name: `gates-call-log-${++n}` });
  }
  return {
    calls,
    changing: () => calls.filter((c) => !READ.test(c.split(":")[1] ?? "")),
    install(clients) {
      record(clients.ec2, "ec2");
      record(clients.autoscaling, "autoscaling");
      record(clients.elbv2, "elbv2");
      record(clients.ecs, "ecs");
      record(clients.ecr, "ecr");
      record(clients.iam, "iam");
    },
  };
}

export interface Gate {
  /** Resolves when the call reached the gate. */
  arrived: Promise<void>;
  release(): void;
  /** Puts the gate on a client (e.g. from the worker's awsMiddleware, once its clients exist). */
  install<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>): void;
}

interface WithMiddleware<Input extends object, Output extends object> {
  middlewareStack: MiddlewareStack<Input, Output>;
}

let gateCounter = 0;

/** Makes the first call of `operation` wait until release(); later calls pass. */
export function createGate(operation: string): Gate {
  let arrive = (): void => undefined;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let used = false;
  return {
    arrived,
    release,
    install<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>) {
      const middleware: InitializeMiddleware<Input, Output> = (next, context) => async (args) => {
        if (!used && context.commandName === `${operation}Command`) {
          used = true;
          arrive();
          await released;
        }
        return next(args);
      };
      client.middlewareStack.add(middleware, { step: "initialize", name: `gdr-gate-${++gateCounter}` });
    },
  };
}
