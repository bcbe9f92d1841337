// Minimal typings for qlobber 8 (the topic matcher mqemitter and aedes-persistence use; it ships none).
declare module "qlobber" {
  export type QlobberOptions = {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
    max_words?: number;
  };
  export class Qlobber<V> {
    constructor(options?: QlobberOptions);
    add(topic: string, value: V): this;
    remove(topic: string, value?: V): this;
    match(topic: string): V[];
  }
}
