// DEV-6: who may publish and subscribe where. Pure functions of the session and the topic.
import { BROADCAST_CMD_TOPIC, cmdTopic, parseDeviceTopic } from '../contract/topics.ts';

/** A device session is registered or pending (factory credentials, not adopted yet: ING-3). */
export type Session = { role: 'device' | 'pending'; sn: string } | { role: 'admin' };

export type PublishDecision =
  | { allow: true; route: 'up' | 'status'; sn: string }
  | { allow: true; route: 'forward' }
  | { allow: false; reason: string };

export function decidePublish(session: Session, topic: string): PublishDecision {
  const parsed = parseDeviceTopic(topic);
  if (session.role === 'admin') {
    // The debug user may send commands, never speak for a device.
    if ((parsed && parsed.kind === 'cmd') || topic === BROADCAST_CMD_TOPIC) return { allow: true, route: 'forward' };
    return { allow: false, reason: 'admin may publish commands only' };
  }
  if (!parsed || parsed.sn !== session.sn || parsed.kind === 'cmd') {
    return { allow: false, reason: `device ${session.sn} may not publish to ${topic}` };
  }
  return { allow: true, route: parsed.kind, sn: parsed.sn };
}

export function maySubscribe(session: Session, topicFilter: string): boolean {
  if (session.role === 'admin') return true;
  return topicFilter === cmdTopic(session.sn) || topicFilter === BROADCAST_CMD_TOPIC;
}
