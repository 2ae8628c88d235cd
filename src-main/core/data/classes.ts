/** Fashion-MNIST's class names, in label order (0 = T-shirt/top … 9 = Ankle boot), as zalando publishes them. */
export const FASHION_MNIST_CLASSES: string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** MNIST's class names: the digits themselves. */
export const MNIST_CLASSES: string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
