"""Each command's title in Chinese, shown before its English summary in ``--help``: the
secretaries read Chinese first (issue 17); the English stays for everyone else and for
the API's documents, which share the summaries."""

from __future__ import annotations

import argparse

TITLES = {
    "unit": "成员单位",
    "unit register": "登记成员单位",
    "unit rename": "单位更名",
    "unit relocate": "单位迁址",
    "unit qualify": "记录单位资质",
    "unit end-qualification": "记录资质终止",
    "unit correct": "更正登记信息",
    "unit deregister": "单位注销",
    "unit show": "查看单位",
    "unit list": "单位列表",
    "unit search": "查找单位",
    "community": "共同体",
    "community found": "成立共同体",
    "community show": "查看共同体",
    "community recommend": "设定推荐省份",
    "community list": "共同体列表",
    "community dissolve": "解散共同体",
    "member": "成员",
    "member admit": "吸收成员",
    "member exit": "成员退出",
    "member role": "变更成员角色",
    "member annul": "撤销误录的成员记录",
    "member list": "成员名单",
    "charter": "章程",
    "charter adopt": "通过章程",
    "charter show": "查看章程",
    "council": "理事会",
    "council seat": "理事会席位",
    "council seat assign": "分配席位",
    "council seat vacate": "席位出缺",
    "council seat annul": "撤销误录的席位记录",
    "council seat list": "席位列表",
    "council meeting": "理事会会议",
    "council meeting record": "记录会议",
    "council meeting annul": "撤销误录的会议",
    "council meeting list": "会议列表",
    "council resolution": "决议登记簿",
    "council resolution record": "记录表决",
    "council resolution list": "决议列表",
    "filing": "年度文件",
    "filing add": "登记报送文件",
    "filing list": "报送文件列表",
    "filing check": "核对文件",
    "obligations": "年度报送义务",
    "indicator": "监测指标",
    "indicator record": "填报指标数据",
    "indicator report": "指标年报",
    "agreement": "协议",
    "agreement draft": "起草协议",
    "agreement approve": "批准协议",
    "agreement amend": "修订协议",
    "agreement terminate": "终止协议",
    "agreement show": "查看协议",
    "agreement list": "协议列表",
    "agreement contribute": "记录投入",
    "agreement fund": "记录外部投入",
    "agreement cost": "记录成本",
    "agreement benefit": "记录收益",
    "agreement reverse": "冲销误录条目",
    "report": "报表",
    "report annual": "年度数据包",
    "report verify-annual": "核验年度数据包",
    "report cost-sharing": "成本分摊报表",
    "report investment": "投入汇总",
    "report provinces": "跨省分布",
    "report quality": "成员优质多元",
    "projections": "读模型",
    "projections status": "读模型进度",
    "projections rebuild": "重建读模型",
    "serve": "HTTP 服务",
    "token": "访问令牌",
    "token issue": "签发令牌",
    "token list": "令牌列表",
    "token revoke": "吊销令牌",
    "relay": "事件转发",
    "relay nats": "转发到消息队列",
    "relay status": "转发进度",
    "relay webhooks": "投递回调",
    "webhook": "回调",
    "webhook add": "添加回调",
    "webhook list": "回调列表",
    "webhook remove": "移除回调",
    "webhook deliveries": "投递记录",
    "webhook redeliver": "重新投递",
    "webhook secret": "生成签名密钥",
    "audit": "审计",
    "audit verify": "校验哈希链",
    "audit checkpoint": "签名检查点",
    "audit checkpoints": "检查点列表",
    "audit inclusion": "包含证明",
    "audit consistency": "一致性证明",
    "audit export": "导出审计包",
    "audit verify-bundle": "离线校验审计包",
    "history": "事件历史",
    "replay": "回放",
    "demo": "加载示例账本",
}


def in_chinese(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Put each command's Chinese title before its summary, in its parent's list of
    commands and atop its own ``--help``; a command without one is an error, so none
    is added in English alone."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        listed = {choice.dest: choice for choice in action._choices_actions}
        for name, sub in action.choices.items():
            key = f"{path} {name}".strip()
            title = TITLES.get(key)
            if title is None:
                raise KeyError(f"cli/titles.py: no Chinese title for `chanjiao {key}`")
            text = f"{title}：{listed[name].help}"
            listed[name].help = text
            sub.description = text
            in_chinese(sub, key)
