import { stableId } from '../seeded-random.js';

/**
 * Realistic chat content for every message type of seed 002: the
 * `ad_chatting_content` text and the `ad_chatting_resvred` JSON (before URL-encoding).
 * Each generator takes a PRNG, so content is a pure function of the chat's position.
 */

/** A PRNG returning numbers in [0, 1). */
export type Random = () => number;

/** Content of one chat: text and the resvred object (null where the type has none). */
export interface ChatContent {
  content: string;
  resvred: Record<string, unknown> | null;
}

/** Inputs some content generators need. */
export interface ContentContext {
  random: Random;
  /** Identifies the chat, to derive stable media keys. */
  key: string;
  fanName: string;
  staffName: string;
}

const FAN_TEXTS = [
  '你好，请问这款还有货吗？',
  '什么时候发货呀',
  '收到了，谢谢😊',
  '能便宜点吗🙏',
  '地址改一下：上海市浦东新区张江路88号3栋1201',
  '好的👌',
  '尺码偏大还是偏小？我平时穿M',
  '我想退货，怎么操作',
  '优惠券用不了，提示“不满足使用条件”',
  '在吗？',
  '👍👍👍',
  '麻烦帮我查一下物流，单号SF1402283746512',
  '颜色和图片上差别有点大😅',
  '可以开发票吗？抬头：杭州某某科技有限公司',
  '宝贝很喜欢，回购了🎉',
  '昨天说好今天发的，怎么还没动静',
  'ok',
  '嗯嗯',
  '这个和上次买的是同一批吗',
  '周末有活动吗？',
];

const STAFF_TEXTS = [
  '您好，在的，请问有什么可以帮您？',
  '亲，今天下单明天发货哦~',
  '已为您备注，请放心🌹',
  '好的，稍等我帮您查询一下',
  '感谢您的支持！有问题随时找我😊',
  '退货流程：我的订单 → 申请售后 → 选择退货退款',
  '这款目前有现货，M码偏小半码，建议拍L',
  '物流显示已到达【杭州转运中心】，预计明天送达',
  '本周六晚8点直播间有满199减30的券🎁',
  '发票会在确认收货后3个工作日内开具',
  '亲，给您申请了5元无门槛券，已发放到账户',
  '早上好☀️ 新品上架了，给您看看',
];

// Some titles hold ASCII spaces and pluses, so the resvred encoding knob (`+` vs `%20`) shows.
const LINK_TITLES = [
  '双11预售攻略｜省钱清单',
  '会员日专享福利',
  '夏季新品发布 A+B 套餐',
  '售后服务说明',
  'C++ & Go 课程 50% off',
];
const FILE_NAMES = ['报价单2024.xlsx', '产品手册 v2+.pdf', '合同-扫描件.pdf', '尺码表.png', 'invoice 2024 (1).docx'];
const PLACES = [
  { title: '杭州东站', desc: '浙江省杭州市上城区天城路1号' },
  { title: '上海虹桥站', desc: '上海市闵行区申贵路1500号' },
  { title: '深圳湾科技生态园', desc: '广东省深圳市南山区高新南十道' },
];
const MINI_PROGRAMS = [
  { displayName: '京东购物', title: '好物推荐，限时秒杀' },
  { displayName: '拼多多', title: '帮我砍一刀' },
  { displayName: '美团外卖', title: '满30减15' },
];
const CHANNEL_NAMES = ['好物小助手', '每日穿搭', '厨房里的小秘密'];
const CONTROL_CHARACTERS = ['\u0007', '\t', '\n', '\u001b', '\r\n'];

function choose<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Inserts a raw control character into some texts, as the real platform returns them. */
function roughen(random: Random, text: string): string {
  if (random() >= 0.04) return text;
  const at = Math.floor(random() * (text.length + 1));
  return `${text.slice(0, at)}${choose(random, CONTROL_CHARACTERS)}${text.slice(at)}`;
}

function mediaKey(context: ContentContext, kind: string): string {
  return stableId(32, context.key, kind);
}

function mediaUrl(context: ContentContext, kind: string): string {
  return `https://res.youmi.example/${kind}/${mediaKey(context, kind)}.jpg`;
}

/** Text typed by a fan (issend 0) or by staff (issend 1). */
export function chatText(random: Random, fromAccount: boolean): string {
  const text = choose(random, fromAccount ? STAFF_TEXTS : FAN_TEXTS);
  // Some messages are two lines, as pasted replies are.
  const joined = random() < 0.08 ? `${text}\n${choose(random, fromAccount ? STAFF_TEXTS : FAN_TEXTS)}` : text;
  return roughen(random, joined);
}

/**
 * Builds content and resvred for a message type code of seed 002 (unknown codes included):
 * messages here, shared cards and system notices in the two functions below, one case per
 * type code, to read side by side with the table of seed 002.
 */
export function chatContent(type: number, fromAccount: boolean, context: ContentContext): ChatContent {
  const { random } = context;
  switch (type) {
    case 1:
      return { content: chatText(random, fromAccount), resvred: null };
    case 2:
    case 3:
      return { content: `imgs[${mediaKey(context, 'img')}]`, resvred: null };
    case 4:
      // Seed 002 lists 4 both as image and as voice: the content prefix tells them apart.
      return random() < 0.5
        ? { content: `imgs[${mediaKey(context, 'img')}]`, resvred: null }
        : voice(context, 'audioT');
    case 34:
      return voice(context, 'audio');
    case 42: {
      const nickname = choose(random, ['王店长', '售后小李', 'Lily🌸', '张三']);
      return { content: `MP[${nickname}]`, resvred: { nickname } };
    }
    case 48: {
      const place = choose(random, PLACES);
      const url = `https://map.qq.com/?type=marker&marker=${encodeURIComponent(place.title)}`;
      return {
        content: `a(${url})`,
        resvred: { desc: place.desc, thumbUrl: mediaUrl(context, 'loc'), title: place.title, url },
      };
    }
    case 49: {
      const title = choose(random, LINK_TITLES);
      const url = `https://mp.weixin.qq.com/s/${stableId(22, context.key, 'link')}`;
      return { content: `a(${url})`, resvred: { title, url } };
    }
    case 50:
      return {
        content: `[视频通话] 通话时长 0${Math.floor(random() * 9)}:${10 + Math.floor(random() * 49)}`,
        resvred: null,
      };
    case 8220:
      return quote(context, fromAccount);
    default:
      // Shared cards and notices, then a type the docs do not list: consumers must pass it through unchanged.
      return (
        sharedCardContent(type, context) ??
        systemNoticeContent(type, context) ?? {
          content: '[当前版本不支持展示该内容]',
          resvred: { raw: `type-${type}`, version: 3 },
        }
      );
  }
}

/** Group invitations, files, name cards, chat histories, mini programs, payments, Channels (seed 002). */
function sharedCardContent(type: number, context: ContentContext): ChatContent | undefined {
  const { random } = context;
  switch (type) {
    case 495:
      return {
        content: `"${context.staffName}"邀请你加入群聊`,
        resvred: {
          desc: `"${context.staffName}"邀请你加入群聊「VIP客户福利群」，进入可查看详情。`,
          thumbUrl: mediaUrl(context, 'group'),
          title: '邀请你加入群聊',
          url: `https://support.weixin.qq.com/cgi-bin/mmsupport-bin/addchatroombyinvite?ticket=${stableId(12, context.key, 'grp')}`,
        },
      };
    case 496: {
      const title = choose(random, FILE_NAMES);
      return {
        content: `file[${mediaKey(context, 'file')}]`,
        resvred: { title, totalLen: 2048 + Math.floor(random() * 5_000_000), url: '' },
      };
    }
    case 1001:
      return { content: `[分享名片]${choose(random, ['王店长', '小美客服'])}`, resvred: null };
    case 4919:
      return { content: `[聊天记录]${context.fanName}和${context.staffName}的聊天记录`, resvred: null };
    case 4933: {
      const program = choose(random, MINI_PROGRAMS);
      return {
        content: `[小程序]${program.title}`,
        resvred: {
          appIconUrl: mediaUrl(context, 'appicon'),
          displayName: program.displayName,
          downloadKey: mediaKey(context, 'cover'),
          title: program.title,
        },
      };
    }
    case 4362:
      return { content: choose(random, ['[红包]恭喜发财，大吉大利', '[群收款]聚餐AA', '[转账]¥88.00']), resvred: null };
    case 7549:
    case 9730: {
      const nickname = choose(random, CHANNEL_NAMES);
      const description = type === 7549 ? '今天教大家三分钟搞定早餐🍳' : '直播中：秋冬新款上新';
      return {
        content: `${type === 7549 ? '[视频号]' : '[直播]'}${description}`,
        resvred: { avatar: mediaUrl(context, 'avatar'), description, nickname, thumbUrl: mediaUrl(context, 'thumb') },
      };
    }
    default:
      return undefined;
  }
}

/** The platform's system notices and the takeover message (seed 002, codes 10000 and up). */
function systemNoticeContent(type: number, context: ContentContext): ChatContent | undefined {
  const { random } = context;
  switch (type) {
    case 10000:
      return { content: `你已添加了${context.fanName}，现在可以开始聊天了。`, resvred: null };
    case 10001:
      return { content: `"${context.fanName}"更新了微信号`, resvred: null };
    case 10002:
      return {
        content: `${context.fanName}开启了朋友验证，你还不是他（她）朋友。请先发送朋友验证请求，对方验证通过后，才能聊天。`,
        resvred: null,
      };
    case 10003:
      return { content: `${context.fanName}请求添加你为朋友`, resvred: null };
    case 10004:
      return { content: '消息已发出，但被对方拒收了。', resvred: null };
    case 10005:
      return { content: `${context.fanName}已完成实名认证`, resvred: null };
    case 11001:
      return { content: `[待办]${choose(random, ['明天下午3点回访', '确认收货后邀评', '寄送赠品'])}`, resvred: null };
    case 12001:
      return {
        content: '申请接管该会话',
        resvred: {
          key: stableId(16, context.key, 'takeover'),
          name: context.staffName,
          reason: choose(random, ['客户要求人工服务', '大额订单跟进', '投诉处理']),
        },
      };
    default:
      return undefined;
  }
}

function voice(context: ContentContext, prefix: 'audio' | 'audioT'): ChatContent {
  const key = mediaKey(context, 'voice');
  return {
    content: `${prefix}[${key}]`,
    resvred: { downloadKey: key, type: -1, videoLen: 1 + Math.floor(context.random() * 59) },
  };
}

function quote(context: ContentContext, fromAccount: boolean): ChatContent {
  const { random } = context;
  const quoted = choose(random, [1, 3, 49, 496] as const);
  const base = { type: quoted, content: '', title: '', downloadKey: '', url: '' };
  const resvred =
    quoted === 1
      ? { ...base, content: chatText(random, !fromAccount) }
      : quoted === 3
        ? { ...base, downloadKey: mediaKey(context, 'quoted-img') }
        : quoted === 49
          ? { ...base, title: choose(random, LINK_TITLES), url: `https://mp.weixin.qq.com/s/${mediaKey(context, 'q')}` }
          : { ...base, title: choose(random, FILE_NAMES), downloadKey: mediaKey(context, 'quoted-file') };
  return { content: chatText(random, fromAccount), resvred };
}

/** Nicknames of generated fans (some with emoji, as WeChat nicknames often have). */
export const FAN_NICKNAMES = [
  '小鱼儿',
  '晴天☀️',
  '张伟',
  '王芳',
  'Lucky🍀',
  '李娜',
  '刘洋',
  '陈静',
  '杨光',
  '一只猫🐱',
  'Amy',
  '赵磊',
  '黄丽',
  '周杰',
  '吴敏',
  '徐强',
  '孙悦',
  '🌸花开半夏',
  '马超',
  '朱琳',
];

/** Names of generated staff. */
export const STAFF_NAMES = ['林小美', '陈客服', '王店长', '李售后', '赵专员', '周顾问', '吴主管', '郑客服', '孙助理'];

/** Regions of generated fans. */
export const REGIONS = ['浙江 杭州', '上海', '北京', '广东 深圳', '四川 成都', '江苏 南京', '湖北 武汉', ''];
