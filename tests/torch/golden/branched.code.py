


def forward(self, x):
    stem = self.stem(x);  x = None
    relu = getattr(self, "0")(stem);  stem = None
    mix_b1 = self.mix.b1(relu)
    mix_b3_conv = getattr(self.mix.b3, "0")(relu)
    mix_b3_relu = getattr(self.mix.b3, "1")(mix_b3_conv);  mix_b3_conv = None
    mix_b3_conv_1 = getattr(self.mix.b3, "2")(mix_b3_relu);  mix_b3_relu = None
    mix_b5_conv = getattr(self.mix.b5, "0")(relu)
    mix_bp_maxpool = getattr(self.mix.bp, "0")(relu);  relu = None
    mix_bp_conv = getattr(self.mix.bp, "1")(mix_bp_maxpool);  mix_bp_maxpool = None
    mix_concat = torch.cat([mix_b1, mix_b3_conv_1, mix_b5_conv, mix_bp_conv], 1);  mix_b1 = mix_b3_conv_1 = mix_b5_conv = mix_bp_conv = None
    mix_relu = getattr(self.mix, "0")(mix_concat);  mix_concat = None
    pool = self.pool(mix_relu);  mix_relu = None
    res_conv1 = self.res.conv1(pool)
    res_bn1 = self.res.bn1(res_conv1);  res_conv1 = None
    res_relu = getattr(self.res, "0")(res_bn1);  res_bn1 = None
    res_conv2 = self.res.conv2(res_relu);  res_relu = None
    res_bn2 = self.res.bn2(res_conv2);  res_conv2 = None
    res_add = res_bn2 + pool;  res_bn2 = pool = None
    res_relu_1 = getattr(self.res, "2")(res_add);  res_add = None
    head_avgpool = getattr(self.head, "0")(res_relu_1);  res_relu_1 = None
    head_flatten = getattr(self.head, "1")(head_avgpool);  head_avgpool = None
    head_dropout = getattr(self.head, "2")(head_flatten);  head_flatten = None
    head_fc = self.head.fc(head_dropout);  head_dropout = None
    return head_fc
    