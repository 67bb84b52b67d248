


def forward(self, x):
    conv1 = self.conv1(x);  x = None
    tanh = getattr(self, "0")(conv1);  conv1 = None
    pool1 = self.pool1(tanh);  tanh = None
    conv2 = self.conv2(pool1);  pool1 = None
    tanh_1 = getattr(self, "1")(conv2);  conv2 = None
    pool2 = self.pool2(tanh_1);  tanh_1 = None
    flatten = getattr(self, "2")(pool2);  pool2 = None
    fc1 = self.fc1(flatten);  flatten = None
    tanh_2 = getattr(self, "3")(fc1);  fc1 = None
    fc2 = self.fc2(tanh_2);  tanh_2 = None
    tanh_3 = getattr(self, "4")(fc2);  fc2 = None
    output = self.output(tanh_3);  tanh_3 = None
    return output
    