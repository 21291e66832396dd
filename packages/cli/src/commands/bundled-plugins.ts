import type { KefuPlugin } from '@kefu/core';
import { plugin as sinkDb } from '@kefu/sink-db';
import { plugin as sinkFile } from '@kefu/sink-file';
import { plugin as sinkHttp } from '@kefu/sink-http';
import { plugin as sinkNats } from '@kefu/sink-nats';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { plugin as wecomKf } from '@kefu/wecom-kf';
import { plugin as youmi } from '@kefu/youmi';

/** The plugins the CLI ships with: usable by name without installing them next to the config. */
export const BUNDLED_PLUGINS: readonly KefuPlugin[] = [wechatMp, youmi, wecomKf, sinkFile, sinkHttp, sinkDb, sinkNats];
